"""The commands: one module per command word (or per pair of words that share their work).

A command reads the parsed command line (`invocation.py`), uses the machinery in `config`,
`credentials` and `handoff`, and writes to stdout. Nothing outside this folder imports
from it except `awsrun.cli`, which imports the one command it dispatches to: this face
stays empty, since every import here is paid on each cache hit.
"""
