#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for the cluster test (tests/workflow/test_slurm_cluster.py) and the scale-out benchmark
# (benchmarks/bench_cluster.py); .ci/run starts it before the tests and stops it at the end:
# slurmctld + slurmd + slurmdbd (accounting in MariaDB, which snakemake-executor-plugin-slurm polls through sacct),
# authenticated by munge. Debian 12, as root.
#
#   scripts/local_slurm.sh start     install the Debian packages if missing, write the configuration, start what is
#                                    not running (idempotent), wait until the node is idle
#   scripts/local_slurm.sh stop      stop only the daemons this script started (recorded in $STATE)
#   scripts/local_slurm.sh status    what runs, sinfo
#
# Facts this relies on (checked on Debian 12): slurm.conf must be /etc/slurm/slurm.conf (srun inside a job does not
# see SLURM_CONF from the submitting shell); sacct needs slurmdbd (accounting_storage/none makes the plugin hang);
# jobacct_gather/linux with JobAcctGatherFrequency=task=1 gives even short jobs a MaxRSS; the plugin puts the rule
# name in the job comment, which sacct keeps only with AccountingStoreFlags=job_comment.
set -euo pipefail

STATE=${SEEDSIG_SLURM_STATE:-/run/seedsig-slurm}
CLUSTER=seedsig
PACKAGES=(slurm-wlm munge slurmdbd mariadb-server)
DB_PASS=seedsig-local-slurm

log() { echo "local_slurm: $*" >&2; }
die() { log "$*"; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (it installs Debian packages and starts system daemons)"
}

ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

running() { pgrep -x "$1" >/dev/null 2>&1; }

# the pid file of each daemon (stop and restart signal that process only)
pidfile() {
  case $1 in
    munged) echo /run/munge/munged.pid ;;
    mariadbd) echo /run/mysqld/mysqld.pid ;;
    *) echo "/run/slurm/$1.pid" ;;
  esac
}

# stop one daemon by the pid in its pid file; wait until it is gone
stop_daemon() {
  local f pid
  f=$(pidfile "$1")
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  log "$1 (pid $pid) did not stop"
}

# start a daemon unless it runs; remember that we started it
start_daemon() {
  local name=$1
  shift
  if running "$name"; then
    return 0
  fi
  log "starting $name"
  "$@"
  echo "$name" >>"$STATE/started"
}

write_config() {
  local cpus mem
  cpus=$(nproc)
  # RealMemory: what the node offers jobs (MB), leaving 1 GB to the system
  mem=$(awk '/MemTotal/ {printf "%d", $2 / 1024 - 1024}' /proc/meminfo)
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
  chown slurm:slurm /var/spool/slurmctld /var/log/slurm /run/slurm
  cat >/etc/slurm/slurm.conf.new <<EOF
# written by seedsig scripts/local_slurm.sh: a single-node cluster for tests
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
MinJobAge=300
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  cat >/etc/slurm/slurmdbd.conf.new <<EOF
# written by seedsig scripts/local_slurm.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
PidFile=/run/slurm/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
  for f in slurm.conf slurmdbd.conf; do
    if ! cmp -s "/etc/slurm/$f.new" "/etc/slurm/$f" 2>/dev/null; then
      mv "/etc/slurm/$f.new" "/etc/slurm/$f"
      echo "$f" >>"$STATE/changed"
    else
      rm "/etc/slurm/$f.new"
    fi
  done
  chown slurm:slurm /etc/slurm/slurmdbd.conf
  chmod 600 /etc/slurm/slurmdbd.conf
}

wait_for() {
  local what=$1 tries=$2
  shift 2
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  die "$what did not come up (logs: /var/log/slurm/, /var/log/mysql/)"
}

node_idle() { sinfo -h -N -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; }

start() {
  need_root
  ensure_packages
  mkdir -p "$STATE"
  : >"$STATE/changed"
  # munge: the key is generated by the package; a key of a copied image must belong to munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create >/dev/null 2>&1 || /usr/sbin/create-munge-key -f >/dev/null
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge && chown munge:munge /run/munge
  start_daemon munged runuser -u munge -- /usr/sbin/munged
  wait_for munge 20 sh -c 'munge -n | unmunge'

  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! running mariadbd && ! running mysqld; then
    log "starting mariadb"
    (mysqld_safe --user=mysql >/dev/null 2>&1 &)
    echo mariadbd >>"$STATE/started"
  fi
  wait_for mariadb 60 mysqladmin ping
  mysql -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
            CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

  write_config
  if grep -qx slurmdbd.conf "$STATE/changed" && running slurmdbd; then
    stop_daemon slurmdbd
  fi
  start_daemon slurmdbd /usr/sbin/slurmdbd
  wait_for slurmdbd 60 sacctmgr -n list cluster
  if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
  fi
  if grep -qx slurm.conf "$STATE/changed"; then
    stop_daemon slurmctld
    stop_daemon slurmd
  fi
  start_daemon slurmctld /usr/sbin/slurmctld
  start_daemon slurmd /usr/sbin/slurmd
  wait_for "the node" 60 node_idle
  scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
  log "ready: $(sinfo -h -N -o '%N %t %c CPUs %m MB')"
}

stop() {
  need_root
  [ -f "$STATE/started" ] || { log "nothing started by this script"; return 0; }
  # reverse order of starting
  tac "$STATE/started" | while read -r name; do
    case $name in
      mariadbd) mysqladmin shutdown >/dev/null 2>&1 || stop_daemon mariadbd ;;
      *) stop_daemon "$name" ;;
    esac
    log "stopped $name"
  done
  rm -f "$STATE/started"
}

status() {
  for d in munged mariadbd slurmdbd slurmctld slurmd; do
    if running "$d"; then echo "$d: running"; else echo "$d: stopped"; fi
  done
  sinfo 2>/dev/null || true
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
