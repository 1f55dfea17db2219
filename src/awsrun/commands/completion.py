"""`awsrun completion bash|zsh|fish`: scripts that complete command words, options, their
values and profile names, and hand the command after the profile to its own completion.
Profile names come from `awsrun list --names`, which reads the config files without
boto3."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from awsrun.errors import UsageError

TYPE_CHECKING = False  # annotations only
if TYPE_CHECKING:
    from awsrun.commands.invocation import Invocation

SHELLS = ("bash", "zsh", "fish")
# The command words that take profile names after them.
_PROFILE_WORDS = (
    "exec", "env", "credential-process", "clear", "login", "logout", "console", "add", "remove",
    "rotate",
)  # fmt: skip

_BASH = """\
# awsrun completion for bash; for zsh it runs under bashcompinit.
_awsrun() {
    local cur=${COMP_WORDS[COMP_CWORD]} i word seen="" start=""
    case ${COMP_WORDS[COMP_CWORD-1]} in
        --format) COMPREPLY=($(compgen -W "__FORMATS__" -- "$cur")); return ;;
        --region) COMPREPLY=($(compgen -W "__REGIONS__" -- "$cur")); return ;;
    esac
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case " __VALUE_OPTIONS__ " in
            *" $word "*) ((i++)); continue ;;
        esac
        case $word in
            --) [ -z "$seen" ] || [ "$seen" = exec ] && start=$((i + 1)); break ;;
            -*) continue ;;
        esac
        if [ -z "$seen" ] && [[ " __WORDS__ " == *" $word "* ]]; then
            seen=$word
            continue
        fi
        # The profile: the command starts after it, and after a `--` that follows it.
        if [ -z "$seen" ] || [ "$seen" = exec ]; then
            start=$((i + 1))
            [ "${COMP_WORDS[start]}" = -- ] && ((start < COMP_CWORD)) && ((start++))
        fi
        seen=${seen:-profile}
        break
    done
    if [ -n "$start" ]; then
        # The command completes as it would on its own: `awsrun p -- aws s3 <TAB>`.
        if declare -F _command_offset >/dev/null; then
            _command_offset "$start"
        elif ((start == COMP_CWORD)); then
            COMPREPLY=($(compgen -c -- "$cur"))
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "__OPTIONS__" -- "$cur"))
    elif [ "$seen" = completion ]; then
        COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
    elif [[ -z $seen || " __PROFILE_WORDS__ " == *" $seen "* ]]; then
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

_ZSH = """\
# awsrun completion for zsh (after compinit)
_awsrun() {
    local i word seen="" start=""
    for ((i = 2; i < CURRENT; i++)); do
        word=${words[i]}
        case " __VALUE_OPTIONS__ " in
            (*" $word "*) ((i++)); continue ;;
        esac
        case $word in
            (--) [[ -z $seen || $seen == exec ]] && start=$((i + 1)); break ;;
            (-*) continue ;;
        esac
        if [[ -z $seen && " __WORDS__ " == *" $word "* ]]; then
            seen=$word
            continue
        fi
        # The profile: the command starts after it, and after a `--` that follows it.
        if [[ -z $seen || $seen == exec ]]; then
            start=$((i + 1))
            [[ ${words[start]} == -- ]] && ((start < CURRENT)) && ((start++))
        fi
        seen=${seen:-profile}
        break
    done
    if [[ -n $start ]]; then
        # The command completes as it would on its own: `awsrun p -- aws s3 <TAB>`.
        shift $((start - 1)) words
        ((CURRENT -= start - 1))
        _normal
        return
    fi
    case ${words[CURRENT-1]} in
        (--format) compadd -- __FORMATS__; return ;;
        (--region) compadd -- __REGIONS__; return ;;
    esac
    if [[ ${words[CURRENT]} == -* ]]; then
        compadd -- __OPTIONS__
    elif [[ $seen == completion ]]; then
        compadd -- bash zsh fish
    elif [[ -z $seen || $seen == (__PROFILE_WORDS_ZSH__) ]]; then
        [[ -z $seen ]] && compadd -- __WORDS__
        # Profile names are data: compadd quotes them, nothing expands them again.
        compadd -- ${(f)"$(awsrun list --names 2>/dev/null)"}
    fi
}
if (( $+functions[compdef] )); then
    compdef _awsrun awsrun
else
    print -u2 "awsrun completion: zsh's completion system is not loaded: run" \
        "'autoload -Uz compinit && compinit' first (in ~/.zshrc, before this line)"
fi
"""

_FISH = """\
# awsrun completion for fish
function __awsrun_command_start
    # The position of the command's first word on the line, if a command has started.
    set -l tokens (commandline -opc)
    set -l seen ""
    set -l i 2
    while test $i -le (count $tokens)
        set -l word $tokens[$i]
        if contains -- $word __VALUE_OPTIONS__
            set i (math $i + 2)
            continue
        end
        if test "$word" = --
            if test -z "$seen"; or test "$seen" = exec
                echo (math $i + 1)
            end
            return
        end
        if string match -q -- '-*' $word
            set i (math $i + 1)
            continue
        end
        if test -z "$seen"; and contains -- $word __WORDS__
            set seen $word
            set i (math $i + 1)
            continue
        end
        if test -z "$seen"; or test "$seen" = exec
            set -l start (math $i + 1)
            if test "$tokens[$start]" = --
                set start (math $start + 1)
            end
            echo $start
        end
        return
    end
end
function __awsrun_in_command
    test -n "$(__awsrun_command_start)"
end
function __awsrun_at_word
    not __awsrun_in_command; and __fish_use_subcommand
end
function __awsrun_complete_command
    # The command completes as it would on its own: `awsrun p -- aws s3 <TAB>`.
    set -l tokens (commandline -opc)
    set -l start (__awsrun_command_start)
    complete -C (string join -- ' ' (string escape -- $tokens[$start..-1]) (commandline -ct))
end
complete -c awsrun -f
complete -c awsrun -n __awsrun_in_command -a '(__awsrun_complete_command)'
complete -c awsrun -n __awsrun_at_word -a '__WORDS__' -d 'command word'
complete -c awsrun -n __awsrun_at_word -a '(awsrun list --names 2>/dev/null)' -d profile
complete -c awsrun -n '__fish_seen_subcommand_from __PROFILE_WORDS__; and not __awsrun_in_command' \
    -a '(awsrun list --names 2>/dev/null)' -d profile
complete -c awsrun -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
__FISH_OPTIONS__
"""


def completion_script(
    shell: str,
    words: Sequence[str],
    flags: Sequence[str],
    value_options: Sequence[str],
    formats: Sequence[str],
) -> str:
    """The script for `shell`, completing the command `words`, awsrun's options and the
    values of --format and --region."""
    from awsrun.config.region_names import REGIONS

    choices = {"--format": " ".join(formats), "--region": " ".join(REGIONS)}
    if shell == "fish":
        lines = []
        for option in sorted([*flags, *value_options]):
            if not option.startswith("--"):
                continue
            line = f"complete -c awsrun -l {option[2:]}"
            if option in choices:
                line += f" -x -a '{choices[option]}'"
            elif option in value_options:
                line += " -r"
            lines.append(line)
        return (
            _FISH.replace("__WORDS__", " ".join(words))
            .replace("__PROFILE_WORDS__", " ".join(_PROFILE_WORDS))
            .replace("__VALUE_OPTIONS__", " ".join(value_options))
            .replace("__FISH_OPTIONS__", "\n".join(lines))
        )
    template = _ZSH if shell == "zsh" else _BASH
    return (
        template.replace("__VALUE_OPTIONS__", " ".join(value_options))
        .replace("__OPTIONS__", " ".join(sorted([*flags, *value_options])))
        .replace("__FORMATS__", choices["--format"])
        .replace("__REGIONS__", choices["--region"])
        .replace("__WORDS__", " ".join(words))
        .replace("__PROFILE_WORDS_ZSH__", "|".join(_PROFILE_WORDS))
        .replace("__PROFILE_WORDS__", " ".join(_PROFILE_WORDS))
    )


def run(
    invocation: Invocation,
    words: Sequence[str],
    flags: Sequence[str],
    value_options: Sequence[str],
) -> int:
    """`awsrun completion SHELL`; the command line's grammar comes from awsrun.cli."""
    from awsrun.handoff.formats import FORMATS

    if len(invocation.words) != 1 or invocation.words[0] not in SHELLS:
        raise UsageError(f"awsrun completion takes one of {', '.join(SHELLS)}")
    sys.stdout.write(
        completion_script(invocation.words[0], words, flags, value_options, list(FORMATS))
    )
    return 0


__all__ = ["SHELLS", "completion_script", "run"]
