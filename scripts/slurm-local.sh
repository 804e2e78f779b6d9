#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for running and testing profiles/slurm-local:
#   sudo bash scripts/slurm-local.sh start|stop|status
# start installs slurm-wlm and munge when missing (Debian/Ubuntu), writes /etc/slurm/slurm.conf
# for this machine (all its cores and memory; partitions cpu and gpu on the one node) and starts
# munged, slurmctld and slurmd without systemd. It runs no accounting database: jobs are tracked
# through squeue, which shows a finished job for MinJobAge seconds (docs/slurm.md). stop stops
# the daemons that start started (their pids are kept in the state folder) and nothing else.
set -euo pipefail
STATE=${SLURM_LOCAL_STATE:-/var/tmp/slurm-local}
CONF=/etc/slurm/slurm.conf
# written into each file this script writes, so it never overwrites a real cluster's config
MARK="# written by selfdistill scripts/slurm-local.sh"
# how long squeue and scontrol still show a finished job: the executor's squeue-based status
# checks need 120 s or more, the test reads each job's record after the run
MIN_JOB_AGE=${SLURM_LOCAL_MIN_JOB_AGE:-3600}

die() { echo "slurm-local: $1" >&2; exit "${2:-1}"; }

install_packages() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && return
    # exit status 2: SLURM cannot be had here (the test skips), any other failure is a fault
    command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and there is no apt-get to install them" 2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; } ||
        die "could not install slurm-wlm and munge with apt-get" 2
}

own_file() {  # $1 may be (over)written: absent, or written by this script
    [[ ! -e $1 ]] || grep -qF "$MARK" "$1" || die "$1 exists and was not written here; not overwriting it"
}

write_config() {
    local host cpus mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    # leave 1 GB to the system; SLURM refuses a node that has less memory than it is said to have
    mem_mb=$(( $(free -m | awk '/^Mem:/ {print $2}') - 1024 ))
    own_file "$CONF" && own_file /etc/slurm/gres.conf
    mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d"
    cat > "$CONF" <<EOF
$MARK
ClusterName=local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
# no cgroup plugins: they need a writable cgroup hierarchy, which containers often lack
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=$MIN_JOB_AGE
# a job past its time limit is killed at once, not after the default 30 s grace
KillWait=5
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/jobcomp.txt
JobAcctGatherType=jobacct_gather/linux
# one GPU on the node, backed by a device file that is always there: --gpus and --gres are
# scheduled and counted as on a GPU cluster, and a job on a machine without GPUs runs on its CPUs
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
    cat > /etc/slurm/gres.conf <<EOF
$MARK
NodeName=$host Name=gpu File=/dev/null
EOF
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
    # a munged already running (the machine's own) is used and left alone
    munge -n </dev/null >/dev/null 2>&1 && return
    mkdir -p /run/munge && chown munge:munge /run/munge
    [[ -f /etc/munge/munge.key ]] || { runuser -u munge -- mungekey -c 2>/dev/null || /usr/sbin/create-munge-key; }
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$STATE/munged.pid"
}

start() {
    [[ $(id -u) == 0 ]] || die "run as root: SLURM's daemons run as root here" 2
    install_packages
    write_config
    start_munge
    alive "$STATE/slurmctld.pid" || slurmctld
    alive "$STATE/slurmd.pid" || slurmd
    for _ in $(seq 60); do
        sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && { status; return; }
        sleep 1
    done
    die "the node did not come up; see $STATE/slurmctld.log and $STATE/slurmd.log"
}

stop() {
    local pidfile
    for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" "$STATE/munged.pid"; do
        if alive "$pidfile"; then
            kill "$(cat "$pidfile")"
            for _ in $(seq 30); do alive "$pidfile" || break; sleep 0.5; done
        fi
        rm -f "$pidfile"
    done
    echo "slurm-local: stopped"
}

status() {
    alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" || { echo "slurm-local: not running"; return 3; }
    sinfo -o "%P %D %c %m %G %T"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: $0 start|stop|status" ;;
esac
