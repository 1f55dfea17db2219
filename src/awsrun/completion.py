"""`awsrun completion bash|zsh|fish`: scripts that complete command words, options and
profile names. Profile names come from `awsrun list --names`, which reads the config files
without boto3."""

from __future__ import annotations

from collections.abc import Sequence

_BASH = """\
# awsrun completion for bash; for zsh it runs under bashcompinit.
_awsrun() {
    local cur=${COMP_WORDS[COMP_CWORD]} i word seen=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case " __VALUE_OPTIONS__ " in
            *" $word "*) ((i++)); continue ;;
        esac
        case $word in
            --) [ -n "$seen" ] && break; seen=--; continue ;;
            -*) continue ;;
            __WORDS_CASE__)
                [ -z "$seen" ] && { seen=$word; continue; } ;;
        esac
        seen=profile
        break
    done
    if [ "$seen" = profile ]; then
        COMPREPLY=($(compgen -c -- "$cur"))
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "__OPTIONS__" -- "$cur"))
    elif [ "$seen" = completion ]; then
        COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
    else
        [ -z "$seen" ] && COMPREPLY=($(compgen -W "__WORDS__" -- "$cur"))
        # Profile names are data from a file: never through compgen -W, which expands
        # each word again (a `$(...)` in a name would run).
        local name
        while IFS= read -r name; do
            [[ $name == "$cur"* ]] && COMPREPLY+=("$(printf %q "$name")")
        done < <(awsrun list --names 2>/dev/null)
    fi
}
complete -o default -F _awsrun awsrun
"""

_ZSH = (
    """\
# awsrun completion for zsh, through bash's completion function
autoload -U +X bashcompinit && bashcompinit
"""
    + _BASH
)

_FISH = """\
# awsrun completion for fish
complete -c awsrun -f
complete -c awsrun -n __fish_use_subcommand -a '__WORDS__' -d 'command word'
complete -c awsrun -n __fish_use_subcommand -a '(awsrun list --names 2>/dev/null)' -d profile
__FISH_OPTIONS__
"""


def completion_script(
    shell: str, words: Sequence[str], flags: Sequence[str], value_options: Sequence[str]
) -> str:
    """The script for `shell`, completing the command `words` and awsrun's options."""
    options = " ".join(sorted([*flags, *value_options]))
    if shell == "fish":
        lines = [
            f"complete -c awsrun -l {option[2:]}" + (" -r" if option in value_options else "")
            for option in sorted([*flags, *value_options])
            if option.startswith("--")
        ]
        return _FISH.replace("__WORDS__", " ".join(words)).replace(
            "__FISH_OPTIONS__", "\n".join(lines)
        )
    template = _ZSH if shell == "zsh" else _BASH
    return (
        template.replace("__VALUE_OPTIONS__", " ".join(value_options))
        .replace("__OPTIONS__", options)
        .replace("__WORDS_CASE__", "|".join(words))
        .replace("__WORDS__", " ".join(words))
    )


__all__ = ["completion_script"]
