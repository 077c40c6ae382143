# A private single-node Slurm cluster on this machine, for tests and benchmarks
# (sourced by tests/e2e/test_jobs.sh and bench/jobs.sh). Needs root and the Debian
# packages slurm-wlm and munge; no systemd.
#   slurm_up DIR    munged (private socket), slurmctld and slurmd with a slurm.conf in
#                   DIR, on free ports from 36000 up; exports SLURM_CONF; returns 1 with
#                   SLURM_PROBLEM saying what is missing when it cannot
#   slurm_down DIR  scontrol shutdown (then kill), stops munged, removes DIR

slurm_up() {
  local S=$1 p missing=""
  SLURM_PROBLEM=""
  for p in munged slurmctld slurmd sbatch squeue scancel scontrol sinfo runuser; do
    command -v $p > /dev/null || missing="$missing $p"
  done
  [ -z "$missing" ] || { SLURM_PROBLEM="Slurm: not installed:$missing (Debian packages slurm-wlm munge; make deps)"; return 1; }
  [ "$(id -u)" = 0 ] || { SLURM_PROBLEM="Slurm: must run as root to start munged, slurmctld and slurmd (CI does)"; return 1; }
  [ -r /etc/munge/munge.key ] || { SLURM_PROBLEM="Slurm: /etc/munge/munge.key missing (the munge package creates it)"; return 1; }
  chmod 755 "$S"
  mkdir -p "$S/state" "$S/spool"
  install -d -o munge -g munge -m 0755 "$S/munge"
  runuser -u munge -- munged --socket="$S/munge/sock" --pid-file="$S/munge/pid" --seed-file="$S/munge/seed" \
    --log-file="$S/munge/log" ||
    { SLURM_PROBLEM="Slurm: munged does not start: $(tail -1 "$S/munge/log" 2>/dev/null)"; return 1; }
  # Unusual ports, free ones, so a system Slurm (or another test run) does not clash.
  local port i
  for i in $(seq 1 50); do
    port=$((36000 + RANDOM % 8000))
    (exec 3<> /dev/tcp/127.0.0.1/$port) 2> /dev/null && continue
    (exec 3<> /dev/tcp/127.0.0.1/$((port + 1))) 2> /dev/null && continue
    break
  done
  cat > "$S/slurm.conf" <<CONF
ClusterName=fgtest
SlurmctldHost=$(hostname)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
$(slurmd -C | head -1) State=UNKNOWN
PartitionName=fgtest Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$S/slurm.conf
  slurmctld || { SLURM_PROBLEM="Slurm: slurmctld does not start: $(tail -2 "$S/slurmctld.log" 2>/dev/null)"; return 1; }
  slurmd || { SLURM_PROBLEM="Slurm: slurmd does not start: $(tail -2 "$S/slurmd.log" 2>/dev/null)"; return 1; }
  for i in $(seq 1 300); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && return 0
    sleep 0.1
  done
  SLURM_PROBLEM="Slurm: the node is not idle after 30 s: $(sinfo -h 2>&1 | head -1); $(tail -1 "$S/slurmd.log")"
  return 1
}

slurm_down() {
  local S=$1 f pid i
  [ -n "$S" ] && [ -d "$S" ] || return 0
  [ -e "$S/slurm.conf" ] && SLURM_CONF=$S/slurm.conf scontrol shutdown > /dev/null 2>&1
  for f in slurmctld slurmd; do
    pid=$(cat "$S/$f.pid" 2> /dev/null || true)
    if [ -n "$pid" ]; then
      for i in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2> /dev/null || true
    fi
  done
  pid=$(cat "$S/munge/pid" 2> /dev/null || true)
  if [ -n "$pid" ]; then
    kill "$pid" 2> /dev/null || true
    # munged removes its socket and pid file as it exits: wait, or rm races with it.
    for i in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  fi
  rm -rf "$S" 2> /dev/null || { sleep 0.5; rm -rf "$S" || true; }
  return 0
}
