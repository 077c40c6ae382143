# Bash completion for the fg-* programs: program names, sub-commands, options.
# Everything is read from the program's own --help, so it cannot drift from
# the options the program really has; each program's help is read once per shell.
# Installed as share/bash-completion/completions/fg-<verb> (one copy per program,
# as bash-completion loads completions by command name); or source it.

declare -gA _fg_subcommands _fg_options

_fg_learn() {
  local prog=$1 help
  [[ -n ${_fg_options[$prog]+set} ]] && return
  help=$("$prog" --help 2>/dev/null) || help=
  # "Usage: fg-pca fit [options] ..." and the "       fg-pca apply ..." lines below it.
  _fg_subcommands[$prog]=$(printf '%s\n' "$help" |
    awk -v p="${prog##*/}" '/^Usage: / || (u && /^       /) { u = 1; sub(/^(Usage:)? +/, "");
        if ($1 == p && $2 ~ /^[a-z][a-z-]*$/) print $2; next } { u = 0 }' | sort -u | tr '\n' ' ')
  # Option lines: "  -m [ --model ] arg ..." or "  --size arg (=0) ...".
  _fg_options[$prog]=$(printf '%s\n' "$help" |
    { sed -n -E 's/^  (-[A-Za-z0-9] \[ )?(--[A-Za-z0-9-]+).*/\2/p'; echo --help; echo --version; } |
    sort -u | tr '\n' ' ')
}

_fg_complete() {
  local prog=$1 cur=${COMP_WORDS[COMP_CWORD]}
  _fg_learn "$prog"
  COMPREPLY=()
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${_fg_options[$prog]}" -- "$cur"))
  elif [[ $COMP_CWORD -eq 1 && -n ${_fg_subcommands[$prog]// /} ]]; then
    COMPREPLY=($(compgen -W "${_fg_subcommands[$prog]}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
  fi
}

# Every fg-* program on the PATH (bash-completion sources this file when one is first completed).
complete -F _fg_complete $(compgen -c fg- | sort -u)
