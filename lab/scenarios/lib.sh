# Shared helpers of the lab scenarios (busybox sh, sourced; not executable so
# lab/run does not take it for a scenario). Guest init exports LAB_SCENARIO,
# LAB_KERNEL (5.10, 6.1, 6.12), LAB_TIER (auto, fentry, kprobe, tracepoint),
# LAB_CGROUP (v1: v1 hierarchies + cgroup2 at /sys/fs/cgroup/unified; v2,
# v2+localevents: cgroup2 alone at /sys/fs/cgroup, see ../guest/cgroup-layout.sh)
# and LAB_RESULTS_DIR.
#
# Lines for lab/run (one per fact, on stdout = the guest console):
#   LAB-RESULT <scenario> PASS|FAIL|SKIP <details>
#   LAB-REPRO  <cause> <kernel> <tier> <errno> <count>   the workload's own view
#   LAB-MATRIX <cause> <kernel> <tier> <confirmed|inferred|missed|skipped> [details]

LAB_SCENARIO=${LAB_SCENARIO:-$(basename "$0")}
LAB_KERNEL=${LAB_KERNEL:-unknown}
LAB_TIER=${LAB_TIER:-auto}
LAB_CGROUP=${LAB_CGROUP:-v1}
# The matrix column: the tier on the v1 guests, the cgroup mode (and a forced tier) on the v2 ones.
if [ "$LAB_CGROUP" = v1 ]; then
	LAB_COLUMN=$LAB_TIER
	LAB_CG2=/sys/fs/cgroup/unified
else
	LAB_COLUMN=$LAB_CGROUP
	[ "$LAB_TIER" = auto ] || LAB_COLUMN=$LAB_CGROUP-$LAB_TIER
	LAB_CG2=/sys/fs/cgroup
	. /lab/cgroup-layout.sh
fi
LAB_RESULTS_DIR=${LAB_RESULTS_DIR:-/tmp/lab-results}
LAB_TMP=/tmp/lab-$LAB_SCENARIO
FT_HOME=/opt/forktrace
FT_JAR=$FT_HOME/target/forktrace.jar
# Written by lab/run: FT_READY=1 when forktrace is in the initramfs, FT_NATIVE_DIR
# when build/out was copied (else the jar's own native parts are used).
FT_READY=0 FT_NATIVE_DIR=""
[ -f "$FT_HOME/lab.env" ] && . "$FT_HOME/lab.env"
[ -n "$FT_NATIVE_DIR" ] && export FORKTRACE_NATIVE_DIR="$FT_NATIVE_DIR"
mkdir -p "$LAB_RESULTS_DIR" "$LAB_TMP"

lab_log() { echo "[$LAB_SCENARIO $(cut -d" " -f1 /proc/uptime)] $*"; }

# lab_result STATUS DETAILS...: the scenario's verdict (the first one counts).
lab_result() {
	_status=$1
	shift
	echo "LAB-RESULT $LAB_SCENARIO $_status $*"
	echo "$_status $*" >>"$LAB_RESULTS_DIR/$LAB_SCENARIO"
}
lab_pass() { lab_result PASS "$@"; exit 0; }
lab_fail() { lab_result FAIL "$@"; exit 1; }
lab_skip() { lab_result SKIP "$@"; exit 0; }

lab_repro() { echo "LAB-REPRO $1 $LAB_KERNEL $LAB_COLUMN $2 $3"; }
lab_matrix() {
	_cause=$1 _verdict=$2
	shift 2
	echo "LAB-MATRIX $_cause $LAB_KERNEL $LAB_COLUMN $_verdict $*"
}

# lab_kernel_before 5.16: true when the guest kernel is older than that version.
lab_kernel_before() {
	_have=$(uname -r | cut -d- -f1)
	[ "$(printf '%s\n%s\n' "$_have" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -1)" = "$_have" ] &&
		[ "$_have" != "$1" ]
}

# ---------------------------------------------------------------- global settings
# lab_sysctl NAME VALUE: sets /proc/sys/NAME (dots or slashes), remembering the
# old value; lab_restore (run by the EXIT trap) puts everything back in reverse
# order so later scenarios in the same guest start from defaults.
LAB_RESTORE=$LAB_TMP/restore
: >"$LAB_RESTORE"
lab_sysctl() {
	lab_set "/proc/sys/$(echo "$1" | tr . /)" "$2" || return 1
	lab_log "sysctl $1=$2"
}
# lab_set FILE VALUE: the same for any file (e.g. pids.max of a cgroup the guest's init made).
lab_set() {
	echo "$(cat "$1") $1" | cat - "$LAB_RESTORE" >"$LAB_RESTORE.new" && mv "$LAB_RESTORE.new" "$LAB_RESTORE"
	echo "$2" >"$1" || { lab_log "cannot write $2 to $1"; return 1; }
}

# lab_restore_sysctls: puts back what lab_sysctl and lab_set changed (call it as soon as the
# workload is done: a lowered pid_max or threads-max starves everything else).
lab_restore_sysctls() {
	while read -r _value _file; do
		echo "$_value" >"$_file" 2>/dev/null || lab_log "could not restore $_file to $_value"
	done <"$LAB_RESTORE"
	: >"$LAB_RESTORE"
}

LAB_CGROUPS=""
LAB_KILL_IN="" # cgroups of the guest's layout the scenario ran tasks in: emptied, not removed
lab_restore() {
	lab_restore_sysctls
	lab_watch_stop 2>/dev/null
	for _cg in $LAB_KILL_IN; do
		for _pid in $(cat "$_cg/cgroup.procs" 2>/dev/null); do kill -9 "$_pid" 2>/dev/null; done
	done
	for _cg in $LAB_CGROUPS; do
		# Kill what is left inside, then remove the group.
		for _pid in $(cat "$_cg/cgroup.procs" 2>/dev/null); do kill -9 "$_pid" 2>/dev/null; done
		_tries=0
		while [ -d "$_cg" ] && ! rmdir "$_cg" 2>/dev/null && [ $_tries -lt 50 ]; do
			sleep 0.1
			_tries=$((_tries + 1))
		done
	done
	LAB_CGROUPS=""
}
trap lab_restore EXIT

# ---------------------------------------------------------------- cgroups
# lab_cgroup CONTROLLER NAME: creates a cgroup with that controller, v1 when
# the guest mounted a v1 hierarchy for it, else on cgroup2; prints its path.
# NAME may be a path below a cgroup that already exists (e.g. a new scope in
# the layout's pod slice on the v2 guests: "${LAB_BURSTABLE_POD#$LAB_CG2/}/x").
lab_cgroup() {
	if [ "$LAB_CGROUP" = v1 ] && [ -d "/sys/fs/cgroup/$1" ]; then
		_cg=/sys/fs/cgroup/$1/$2
	elif grep -qw "$1" "$LAB_CG2/cgroup.subtree_control"; then
		_cg=$LAB_CG2/$2
	else
		return 1
	fi
	mkdir -p "$_cg" || return 1
	LAB_CGROUPS="$_cg $LAB_CGROUPS"
	echo "$_cg"
}
lab_cgroup_v2() { case $1 in "$LAB_CG2"/*) return 0 ;; esac; return 1; }
# lab_cgroup_path DIR: the cgroup's path as forktrace names it (below its hierarchy's root).
lab_cgroup_path() {
	case $1 in
	/sys/fs/cgroup/unified/*) echo "${1#/sys/fs/cgroup/unified}" ;;
	"$LAB_CG2"/*) echo "${1#"$LAB_CG2"}" ;;
	*) echo "/${1#/sys/fs/cgroup/*/}" ;;
	esac
}

# lab_in_cgroup CGROUP CMD...: runs CMD inside CGROUP (a subshell moves itself there first).
lab_in_cgroup() {
	_cg=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$_cg" "$@"
}

# lab_in_cgroup_unkillable CGROUP CMD...: same with oom_score_adj -1000, so a
# memcg OOM finds nothing to kill and the charge fails instead.
lab_in_cgroup_unkillable() {
	_cg=$1
	shift
	sh -c 'echo -1000 >/proc/self/oom_score_adj && echo $$ >"$0/cgroup.procs" && exec "$@"' "$_cg" "$@"
}

# ---------------------------------------------------------------- workload
# lab_forkloop ARGS...: runs forkloop, echoes its output and sets WL_CREATED,
# WL_FAILED, WL_ERRNO, WL_ERRNOS from its summary line. Prefix with
# lab_in_cgroup etc. through WL_PREFIX (e.g. WL_PREFIX="lab_in_cgroup $cg").
LAB_WORKLOAD_TIMEOUT=${LAB_WORKLOAD_TIMEOUT:-120}
lab_forkloop() {
	$WL_PREFIX forkloop "$@" >"$LAB_TMP/forkloop.out" 2>&1 &
	_wl=$!
	# A watchdog forked now, and the builtin wait: at pid_max or threads-max the shell could not fork a
	# polling sleep of its own while forkloop holds every pid (31-pid-max died of "can't fork").
	(
		sleep "$LAB_WORKLOAD_TIMEOUT"
		lab_log "forkloop still running after ${LAB_WORKLOAD_TIMEOUT} s; its tasks:"
		lab_dump_tasks forkloop
		kill -9 $(pidof forkloop) 2>/dev/null
	) &
	_watchdog=$!
	wait $_wl
	WL_STATUS=$?
	kill $_watchdog 2>/dev/null
	cat "$LAB_TMP/forkloop.out"
	lab_parse_forkloop "$LAB_TMP/forkloop.out"
}
# lab_dump_tasks COMM: state and kernel stack of every task named COMM (for hangs).
lab_dump_tasks() {
	_n=0
	for _p in $(pidof "$1"); do
		_n=$((_n + 1))
		[ $_n -le 5 ] || continue
		echo "  pid $_p state $(cut -d' ' -f3 "/proc/$_p/stat" 2>/dev/null) wchan $(cat "/proc/$_p/wchan" 2>/dev/null)"
		sed 's/^/    /' "/proc/$_p/stack" 2>/dev/null | head -12
	done
	echo "  ($_n tasks named $1; states: $(for _p in $(pidof "$1"); do cut -d' ' -f3 "/proc/$_p/stat"; done 2>/dev/null | sort | uniq -c | tr -s ' \n' ' '))"
}

lab_parse_forkloop() {
	_line=$(grep '^FORKLOOP created=' "$1" | tail -1)
	WL_CREATED=$(echo "$_line" | sed -n 's/.*created=\([0-9]*\).*/\1/p')
	WL_FAILED=$(echo "$_line" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
	WL_ERRNO=$(echo "$_line" | sed -n 's/.* errno=\([A-Z]*\).*/\1/p')
	WL_ERRNOS=$(echo "$_line" | sed -n 's/.* errnos=\([^ ]*\).*/\1/p')
	: "${WL_CREATED:=0}" "${WL_FAILED:=0}" "${WL_ERRNO:=none}"
}

# ---------------------------------------------------------------- forktrace
lab_have_forktrace() { [ "$FT_READY" = 1 ] && [ -f "$FT_JAR" ]; }
lab_tier_args() { [ "$LAB_TIER" = auto ] || echo "--tier $LAB_TIER"; }
# JVM start-up dominates under TCG: C1 only, and a dynamic CDS archive that the
# first forktrace run in the guest writes and later runs map. JVM warnings go
# to stderr (their default is stdout, where the JSON is), minus the archive
# dump's per-class chatter.
FT_JAVA_OPTS="-XX:TieredStopAtLevel=1 -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=/tmp/forktrace-cds.jsa
	-Xlog:disable -Xlog:all=warning,cds=off,cds+dynamic=off:stderr --enable-native-access=ALL-UNNAMED"
lab_forktrace() {
	# shellcheck disable=SC2086
	(cd "$FT_HOME" && exec java $FT_JAVA_OPTS -jar "$FT_JAR" "$@")
}

# lab_watch_start ARGS...: starts `forktrace watch --format json ARGS` in the
# background (one ForkFailure per line in $LAB_TMP/watch.json, messages in
# watch.err) and waits until it says on stderr that its hooks are attached.
LAB_WATCH_PID=""
# lab_heartbeat START WHAT: a line of our own every 30 s since START (an uptime) while a JVM starts, runs or stops:
# lab/guest-watchdog ends a guest that prints none for 120 s, and under TCG on a loaded host a watch has taken
# 193 s to attach and 102 s to stop (5.10, 2026-12-01). Uses and sets _beat (empty: first line at START + 30).
lab_heartbeat() {
	_now=$(cut -d. -f1 /proc/uptime)
	[ "$_now" -ge "${_beat:=$((${1%.*} + 30))}" ] || return 0
	lab_log "$2 ($((_now - ${1%.*})) s)"
	_beat=$((_now + 30))
}

lab_watch_start() {
	# Empty first: the background child truncates its own files only once it runs, and a second watch
	# of one scenario must not be taken for attached because of the first one's line.
	: >"$LAB_TMP/watch.err"
	: >"$LAB_TMP/watch.json"
	# A plain background command, so $! is the JVM that lab_watch_stop signals.
	# shellcheck disable=SC2046,SC2086
	java $FT_JAVA_OPTS -jar "$FT_JAR" watch --format json $(lab_tier_args) "$@" >"$LAB_TMP/watch.json" 2>"$LAB_TMP/watch.err" &
	LAB_WATCH_PID=$!
	_start_began=$(cut -d' ' -f1 /proc/uptime)
	# The options that choose hooks, for lab_hook_evidence's doctor run (same choice, same hooks).
	LAB_WATCH_HOOK_ARGS="$(lab_tier_args)"
	case " $* " in *" --memory-hooks "*) LAB_WATCH_HOOK_ARGS="$LAB_WATCH_HOOK_ARGS --memory-hooks" ;; esac
	_waited=0 _beat=""
	until grep -qs 'attached to' "$LAB_TMP/watch.err"; do
		if ! kill -0 "$LAB_WATCH_PID" 2>/dev/null; then
			wait "$LAB_WATCH_PID"
			_rc=$?
			LAB_WATCH_PID=""
			lab_log "forktrace watch exited with status $_rc before it attached:"
			cat "$LAB_TMP/watch.err"
			return 1
		fi
		if [ $_waited -ge $((1800 * ${LAB_TIME_SCALE:-1})) ]; then
			lab_log "forktrace watch did not attach in $((180 * ${LAB_TIME_SCALE:-1})) s:"
			cat "$LAB_TMP/watch.err"
			return 1
		fi
		sleep 0.1
		_waited=$((_waited + 1))
		[ $((_waited % 10)) -eq 0 ] && lab_heartbeat "$_start_began" "waiting for forktrace watch to attach"
	done
	lab_log "forktrace watch attached after $(awk -v a="$_start_began" '{printf "%.1f", $1 - a}' /proc/uptime) s: $(grep -m1 'attached to' "$LAB_TMP/watch.err")"
}

# lab_watch_stop: SIGTERM (a clean stop for forktrace), then KILL after 60 s.
# Not SIGINT: a non-interactive shell starts background jobs with SIGINT ignored.
lab_watch_stop() {
	[ -n "$LAB_WATCH_PID" ] || return 0
	_stop_began=$(cut -d' ' -f1 /proc/uptime)
	sleep 1 # the last failures' records reach the ring buffer consumer before the stop
	kill -TERM "$LAB_WATCH_PID" 2>/dev/null
	_waited=0 _beat=""
	while kill -0 "$LAB_WATCH_PID" 2>/dev/null && [ $_waited -lt $((600 * ${LAB_TIME_SCALE:-1})) ]; do
		sleep 0.1
		_waited=$((_waited + 1))
		[ $((_waited % 10)) -eq 0 ] && lab_heartbeat "$_stop_began" "waiting for forktrace watch to stop"
	done
	if kill -0 "$LAB_WATCH_PID" 2>/dev/null; then
		lab_log "forktrace watch ignored SIGTERM for 60 s; killing it"
		kill -9 "$LAB_WATCH_PID" 2>/dev/null
	fi
	wait "$LAB_WATCH_PID" 2>/dev/null
	LAB_WATCH_STATUS=$?
	LAB_WATCH_PID=""
	lab_log "forktrace watch stopped (status $LAB_WATCH_STATUS) $(awk -v a="$_stop_began" '{printf "%.1f", $1 - a}' /proc/uptime) s after the stop began"
}

# lab_failures COMM: ForkFailure objects (one compact JSON per line) of processes named COMM (with
# LAB_EVENT_CGROUP set: only those forking in that cgroup, its path as forktrace names it).
lab_failures() {
	jq -c --arg comm "$1" --arg cgroup "${LAB_EVENT_CGROUP:-}" '.. | objects | select(has("cause") and has("errno"))
		| select((.comm // "") == $comm or (.processComm // .process_comm // "") == $comm)
		| select($cgroup == "" or ((.snapshot.pidsCgroups // [])[0].path // "") == $cgroup)' "$LAB_TMP/watch.json"
}

# lab_expect_cause CAUSE[|CAUSE2] COMM: after lab_watch_stop, checks that
# forktrace reported a failure of COMM with one of the causes, emits LAB-MATRIX
# (for the first cause named) and sets FT_VERDICT (confirmed|inferred|missed)
# and FT_DETAILS. Returns 0 when the cause matched.
lab_expect_cause() {
	_want=$1 _comm=$2 _primary=${1%%|*}
	if ! jq . "$LAB_TMP/watch.json" >/dev/null 2>&1; then
		FT_VERDICT=missed FT_DETAILS="watch output is not JSON: $(head -c 200 "$LAB_TMP/watch.json")"
		lab_matrix "$_primary" missed "invalid-output"
		return 1
	fi
	lab_failures "$_comm" >"$LAB_TMP/failures.jsonl"
	_events=$(wc -l <"$LAB_TMP/failures.jsonl")
	_match=$(jq -r --arg want "$_want" 'select(.cause as $c | $want | split("|") | index($c)) | "\(.cause) \(.confidence // "CONFIDENCE_UNSPECIFIED") \(.tier // "?") \(.errno // "?") \(.scope.kind // "-"):\(.scope.name // "-" | gsub(" "; "_")) limit=\(.scope.limit // "-")"' \
		"$LAB_TMP/failures.jsonl" | head -1)
	if [ -n "$_match" ]; then
		set -- $_match
		FT_CAUSE=$1 FT_LIMIT=${6#limit=}
		FT_VERDICT=$(echo "$2" | tr 'A-Z' 'a-z')
		FT_DETAILS="forktrace: $1 $2 tier=$3 errno=$4 scope=$5 $6 events=$_events"
		_shown=$FT_VERDICT
		[ "$1" = "$_primary" ] || _shown="$FT_VERDICT($1)"
		_forced=$(echo "$LAB_TIER" | tr 'a-z' 'A-Z')
		if [ "$LAB_TIER" != auto ] && [ "$3" != "$_forced" ]; then
			# A forced tier that the event does not show was not really tested.
			FT_VERDICT=missed FT_DETAILS="$FT_DETAILS (tier $_forced was forced)"
			lab_matrix "$_primary" missed "tier=$3-not-$_forced"
			return 1
		fi
		if ! lab_expect_scope "$_want"; then
			lab_matrix "$_primary" wrong-scope "tier=$3"
			return 1
		fi
		lab_matrix "$_primary" "$_shown" "tier=$3"
		[ "$FT_VERDICT" = confirmed ] || [ "$FT_VERDICT" = inferred ] && return 0
		return 1
	fi
	_seen=$(jq -r '.cause' "$LAB_TMP/failures.jsonl" | sort | uniq -c | awk '{printf "%s%s:%s", s, $2, $1; s = ","}')
	FT_VERDICT=missed FT_DETAILS="forktrace: no $_want event for $_comm (events=$_events causes: ${_seen:-none})"
	lab_matrix "$_primary" missed "${_seen:-no-events}"
	return 1
}

# lab_expect_scope CAUSE[|CAUSE2]: with LAB_EXPECT_SCOPE (the scope's name, e.g. the cgroup path that
# refused), LAB_EXPECT_LIMIT and LAB_EXPECT_CONFIDENCE (CONFIRMED, INFERRED) set by the scenario, every
# event of those causes in failures.jsonl must say exactly that; returns 1 and extends FT_DETAILS if not.
lab_expect_scope() {
	[ -n "${LAB_EXPECT_SCOPE:-}${LAB_EXPECT_LIMIT:-}${LAB_EXPECT_CONFIDENCE:-}" ] || return 0
	_wrong=$(jq -r --arg want "$1" --arg scope "${LAB_EXPECT_SCOPE:-}" --arg limit "${LAB_EXPECT_LIMIT:-}" \
		--arg confidence "${LAB_EXPECT_CONFIDENCE:-}" '
		select(.cause as $c | $want | split("|") | index($c))
		| select(($scope != "" and (.scope.name // "") != $scope)
			or ($limit != "" and ((.scope.limit // "") | tostring) != $limit)
			or ($confidence != "" and (.confidence // "") != $confidence))
		| "\(.confidence // "-") scope=\(.scope.name // "-") limit=\(.scope.limit // "-")"' "$LAB_TMP/failures.jsonl" |
		sort | uniq -c | head -3 | tr -s ' \n' ' ')
	FT_DETAILS="$FT_DETAILS scope=${LAB_EXPECT_SCOPE:-any} limit=${LAB_EXPECT_LIMIT:-any}"
	[ -z "$_wrong" ] && return 0
	FT_VERDICT=missed
	FT_DETAILS="$FT_DETAILS; expected every event ${LAB_EXPECT_CONFIDENCE:-} with that scope and limit, got:$_wrong"
	return 1
}

# lab_hook_evidence HOOK EVIDENCE CAUSE: when kernel hook HOOK loads with the
# watch's hook options (forktrace doctor says so; the attached line is too short
# to list hooks), some CAUSE event must carry EVIDENCE in snapshot.hooks (the
# hook really fed the attribution); returns 1 and says why otherwise.
lab_hook_evidence() {
	_doctor=/tmp/forktrace-doctor$(echo "$LAB_WATCH_HOOK_ARGS" | tr -c 'a-z0-9\n' '_').json
	if [ ! -s "$_doctor" ]; then
		# A JVM start that prints nothing: with a heartbeat, so lab/guest-watchdog does not end the guest as
		# stalled (a 6.12 guest on a host at load 17 was silent here for 120 s, 2026-12-02).
		# shellcheck disable=SC2086
		lab_forktrace doctor --format json $LAB_WATCH_HOOK_ARGS >"$_doctor.tmp" 2>"$LAB_TMP/doctor.err" &
		_doctor_pid=$! _doctor_began=$(cut -d' ' -f1 /proc/uptime) _beat=""
		while kill -0 "$_doctor_pid" 2>/dev/null; do
			sleep 1
			lab_heartbeat "$_doctor_began" "waiting for forktrace doctor"
		done
		wait "$_doctor_pid" ||
			{ FT_DETAILS="$FT_DETAILS; forktrace doctor (to see whether $1 loads) failed: $(lab_error_line "$LAB_TMP/doctor.err")"; return 1; }
		mv "$_doctor.tmp" "$_doctor"
	fi
	_loaded=$(jq -r --arg h "$1" '.hooks[$h].loaded // "false"' "$_doctor") ||
		{ FT_DETAILS="$FT_DETAILS; forktrace doctor printed no JSON"; return 1; }
	[ "$_loaded" = true ] || { lab_log "hook $1 not attached here: evidence not required"; return 0; }
	_with=$(jq -r --arg c "$3" --arg h "$2" 'select(.cause == $c and ((.snapshot.hooks // []) | index($h))) | .pid' \
		"$LAB_TMP/failures.jsonl" | wc -l)
	[ "$_with" -ge 1 ] && { FT_DETAILS="$FT_DETAILS; $_with event(s) with $2 evidence"; return 0; }
	FT_DETAILS="$FT_DETAILS; hook $1 attached but no $3 event carries $2 evidence"
	return 1
}

# lab_forktrace_finish CAUSE COMM REPRO_DETAILS [HOOK EVIDENCE [LIMIT]]: the
# common end of a global-limit scenario: stops the watch (when one runs),
# asserts the cause (with HOOK, lab_hook_evidence; with LIMIT, the scope's
# limit) and exits with the verdict. Without forktrace: PASS for the
# reproduction, forktrace part SKIP.
lab_forktrace_finish() {
	if [ -n "$FT_START_ERROR" ]; then
		lab_matrix "${1%%|*}" missed watch-did-not-start
		lab_fail "$3; forktrace watch did not start: $FT_START_ERROR"
	fi
	if [ "$FT_WATCHING" != 1 ]; then
		lab_matrix "${1%%|*}" skipped
		lab_pass "$3; forktrace: SKIP ($FT_SKIP_REASON)"
	fi
	lab_watch_stop
	if lab_expect_cause "$1" "$2"; then
		if [ -z "$4" ] || lab_hook_evidence "$4" "$5" "$FT_CAUSE"; then
			[ -z "$6" ] || [ "$FT_LIMIT" = "$6" ] || lab_fail "$3; $FT_DETAILS; expected the scope's limit $6"
			lab_pass "$3; $FT_DETAILS"
		fi
	fi
	lab_log "forktrace watch stderr:"
	tail -20 "$LAB_TMP/watch.err"
	lab_log "forktrace watch output (first 40 lines):"
	head -40 "$LAB_TMP/watch.json"
	lab_fail "$3; $FT_DETAILS"
}

# lab_error_line FILE: the line of a forktrace/JVM error output that says what went wrong.
lab_error_line() {
	{ grep -E '^forktrace:|^Caused by:|Exception|Error' "$1" || grep -v '^[[:space:]]*$' "$1"; } | tail -1 | cut -c1-300
}

# lab_forktrace_begin ARGS...: starts the watch when forktrace is in the
# initramfs; sets FT_WATCHING=1, or FT_SKIP_REASON, or FT_START_ERROR (the
# scenario still reproduces its failure; lab_forktrace_finish then fails it).
lab_forktrace_begin() {
	FT_WATCHING=0 FT_START_ERROR=""
	if ! lab_have_forktrace; then
		FT_SKIP_REASON="forktrace not built when the initramfs was made"
		return 0
	fi
	if lab_watch_start "$@"; then
		FT_WATCHING=1
	else
		FT_START_ERROR=$(lab_error_line "$LAB_TMP/watch.err")
		: "${FT_START_ERROR:=see the watch output above}"
	fi
}
