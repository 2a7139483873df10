package dev.forktrace.stream;

import com.google.protobuf.Timestamp;
import dev.forktrace.pipeline.Tally;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.Scope;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one or more recorded streams say: totals by cause, scope, offender, failing process and errno, first and
 * last failure, the rate over time as a histogram, and the capture counters (dropped, collapsed) from the last
 * Stats of each capture. Rendered as text or JSON. Damaged inputs are recorded with their offsets; everything
 * before the damage counts.
 */
public final class Report {
    /** Distinct keys kept per table; the rest is summed under "(others)" so memory stays bounded. */
    static final int MAX_KEYS = 100_000;
    static final String OTHERS = "(others)";
    private static final long[] BUCKET_SECONDS = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
            10800, 21600, 43200, 86400, 172800, 604800};
    static final int MAX_BUCKETS = 30;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT;

    /** One input and how reading it went. */
    public record Input(String source, long records, long bytes, long failures, StreamFormatException damage,
                        List<String> warnings, List<StreamReader.DamagedRegion> damagedRegions, long duplicates) {
        /** Damaged: a damaged tail, or damaged bytes skipped in the middle. */
        public boolean damaged() {
            return damage != null || !damagedRegions.isEmpty();
        }

        /** Byte offsets of the damaged regions skipped in the middle. */
        public List<Long> skipped() {
            return damagedRegions.stream().map(StreamReader.DamagedRegion::offset).toList();
        }
    }

    /** Counters of one capture: the last Stats its streams hold (rotated files of one capture share a header). */
    public static final class Capture {
        final StreamHeader header;
        Stats last;
        long failures;
        long missingRecords;   // from a transport's sequence numbers
        long duplicateRecords;
        boolean headerMissing;
        // Sequence numbers already counted: the same capture read twice (report a.pb a.pb, or a file
        // concatenated with itself) counts each failure once.
        final SequenceSet sequences = new SequenceSet();

        Capture(StreamHeader header) {
            this.header = header;
        }
    }

    /** A scope's count, the scope as first seen (its limit) and the highest current any failure saw. */
    private static final class ScopeTotal extends Tally.Counter {
        Scope scope;
        long maxCurrent;
    }

    private record ScopeKey(ScopeKind kind, String name) {}

    private final List<Input> inputs = new ArrayList<>();
    private final Tally<String, Tally.Counter> byCause = names();
    private final Tally<ScopeKey, ScopeTotal> byScope = scopes(MAX_KEYS);
    private final Tally<String, Tally.Counter> byOffender = names();
    private final Tally<String, Tally.Counter> byProcess = names();
    private final Tally<String, Tally.Counter> byErrno = names();
    private final Tally<String, Tally.Counter> byContainer = names();
    private final Tally<String, Tally.Counter> byPod = names();
    private final Map<String, Capture> captures = new LinkedHashMap<>();
    private final Tally<String, Tally.Counter> byHost = names();
    private long[] times = new long[1024]; // wall-clock ms of each timed failure
    private short[] timeCauses = new short[1024]; // and its cause, an index into causeNames
    private final List<String> causeNames = new ArrayList<>();
    /** Failures kept whole for the HTML page (message, evidence), with their host; at most keepLimit. */
    record Kept(String host, ForkFailure failure) {}
    private final List<Kept> kept = new ArrayList<>();
    private int keepLimit;
    private int timed;
    private long failures;
    private long untimed;

    /** Keeps up to this many failures whole (for {@link #toHtml}); 0, the default, keeps none. */
    public Report keepFailures(int limit) {
        this.keepLimit = limit;
        return this;
    }

    /** Reads a whole stream into the report; damage is recorded, not thrown. Returns false when damaged. */
    public boolean read(StreamReader reader) throws IOException {
        long failuresBefore = failures;
        long duplicates = 0;
        Capture capture = null;
        StreamFormatException damage = null;
        try {
            StreamRecord record;
            while ((record = reader.next()) != null) {
                switch (record.getRecordCase()) {
                    case HEADER -> {
                        StreamHeader header = record.getHeader();
                        capture = captures.computeIfAbsent(captureKey(header), k -> new Capture(header));
                    }
                    case FAILURE -> {
                        long sequence = record.getFailure().getSequence(); // 0: not numbered, always counted
                        if (sequence != 0 && !capture.sequences.add(sequence)) {
                            duplicates++;
                            continue;
                        }
                        add(record.getFailure());
                        capture.failures++;
                        String host = hostOf(capture.header);
                        byHost.add(host);
                        if (kept.size() < keepLimit) {
                            kept.add(new Kept(host, record.getFailure()));
                        }
                    }
                    case HEADROOM -> addHeadroom(record.getHeadroom());
                    case STATS -> {
                        Stats s = record.getStats();
                        if (capture.last == null || isLater(s, capture.last)) {
                            capture.last = s;
                        }
                    }
                    default -> { }
                }
            }
        } catch (StreamFormatException e) {
            damage = e;
        }
        for (TransportGap gap : reader.transportGaps()) {
            Capture c = gap.captureId().isEmpty() ? null : captures.get("id " + gap.captureId());
            if (c != null) {
                c.missingRecords += gap.missingRecords();
                c.duplicateRecords += gap.duplicateRecords();
                c.headerMissing |= gap.headerMissing();
            }
        }
        List<String> warnings = new ArrayList<>(reader.warnings());
        List<StreamReader.DamagedRegion> regions = reader.damagedRegions();
        if (duplicates > 0) {
            warnings.add(reader.source() + ": " + duplicates + (duplicates == 1 ? " failure was" : " failures were")
                    + " already read (the same capture and sequence number, from an earlier input or earlier in"
                    + " this one): counted once");
        }
        inputs.add(new Input(reader.source(), reader.records(), reader.offset(), failures - failuresBefore, damage,
                warnings, regions, duplicates));
        return damage == null && regions.isEmpty();
    }

    /** Rotated files of one capture repeat its header; one capture's counters must not be counted twice. */
    private static String captureKey(StreamHeader h) {
        if (!h.getCaptureId().isEmpty()) {
            return "id " + h.getCaptureId(); // what a transport's gaps are found by too
        }
        // Older streams have no capture id: the machine, its boot and the start time identify the capture.
        return h.getHostName() + '\0' + h.getBootId() + '\0' + h.getStartTime().getSeconds() + '.'
                + h.getStartTime().getNanos() + '\0' + h.getForktraceVersion();
    }

    static String hostOf(StreamHeader h) {
        return h.getHostName().isEmpty() ? "(unnamed host)" : h.getHostName();
    }

    private static boolean isLater(Stats a, Stats b) {
        if (a.getFinal() != b.getFinal()) {
            return a.getFinal();
        }
        return a.getDelivered() + a.getDropped() >= b.getDelivered() + b.getDropped();
    }

    static String causeName(ForkFailure f) {
        return f.getCause() == dev.forktrace.proto.v1.Cause.UNRECOGNIZED ? "CAUSE_" + f.getCauseValue() : f.getCause().name();
    }

    private static final int MAX_HEADROOM_KEPT = 100;
    private final List<dev.forktrace.proto.v1.Headroom> headroom = new ArrayList<>();
    private long headroomRecords;

    /** Keeps a headroom warning or recovery (the first hundred are listed; all are counted). */
    public void addHeadroom(dev.forktrace.proto.v1.Headroom h) {
        headroomRecords++;
        if (headroom.size() < MAX_HEADROOM_KEPT) {
            headroom.add(h);
        }
    }

    public List<dev.forktrace.proto.v1.Headroom> headroom() {
        return List.copyOf(headroom);
    }

    /** Counts one failure. */
    public void add(ForkFailure f) {
        failures++;
        String cause = causeName(f);
        byCause.add(cause);
        if (f.hasScope()) {
            Scope s = f.getScope();
            ScopeTotal total = byScope.counter(new ScopeKey(s.getKind(), s.getName()));
            if (total.scope == null) {
                total.scope = s;
            }
            total.add();
            total.maxCurrent = Math.max(total.maxCurrent, s.getCurrent());
        }
        if (f.getOffendersCount() > 0) {
            Offender o = f.getOffenders(0);
            byOffender.add(o.getProcessCount() > 1 ? o.getComm() + " (" + (o.getAncestorPid() > 0
                    ? "processes under pid " + o.getAncestorPid() : "several processes") + ")"
                    : o.getComm() + " (pid " + o.getPid() + ")");
        }
        byProcess.add(new Tally.Process(f.getProcessComm().isEmpty() ? f.getComm() : f.getProcessComm(), f.getPid())
                .toString());
        byErrno.add(f.getErrno().isEmpty() ? "errno " + f.getErrnoValue() : f.getErrno());
        if (f.hasContainer()) {
            dev.forktrace.proto.v1.Container c = f.getContainer();
            if (!c.getId().isEmpty()) {
                byContainer.add(dev.forktrace.containers.Containers.describe(c.toBuilder().clearPodUid()
                        .clearPodName().clearPodNamespace().build()));
            }
            if (!c.getPodUid().isEmpty() || !c.getPodName().isEmpty()) {
                byPod.add((c.getPodName().isEmpty() ? "(name unknown)" : c.getPodNamespace() + "/" + c.getPodName())
                        + (c.getPodUid().isEmpty() ? "" : " uid " + c.getPodUid())
                        + (c.getQosClass().isEmpty() ? "" : " [" + c.getQosClass() + "]"));
            }
        }
        if (f.hasTime()) {
            if (timed == times.length) {
                times = Arrays.copyOf(times, times.length * 2);
                timeCauses = Arrays.copyOf(timeCauses, times.length);
            }
            int causeIndex = causeNames.indexOf(cause);
            if (causeIndex < 0) {
                causeIndex = causeNames.size();
                causeNames.add(cause);
            }
            timeCauses[timed] = (short) causeIndex;
            times[timed++] = f.getTime().getSeconds() * 1000 + f.getTime().getNanos() / 1_000_000;
        } else {
            untimed++;
        }
    }

    private static Tally<ScopeKey, ScopeTotal> scopes(int maxKeys) {
        Tally<ScopeKey, ScopeTotal> scopes = new Tally<>(maxKeys,
                Comparator.comparing(ScopeKey::name).thenComparing(ScopeKey::kind), ScopeTotal::new);
        scopes.others().scope = Scope.newBuilder().setName(OTHERS).build(); // printed as a scope named (others)
        return scopes;
    }

    private static Tally<String, Tally.Counter> names() {
        return Tally.counting(MAX_KEYS, Comparator.naturalOrder());
    }

    public long failures() {
        return failures;
    }

    public List<Input> inputs() {
        return List.copyOf(inputs);
    }

    public boolean damaged() {
        return inputs.stream().anyMatch(Input::damaged);
    }

    /** Failures per cause name, largest first. */
    public Map<String, Long> byCause() {
        return sorted(byCause);
    }

    public Map<String, Long> byOffender() {
        return sorted(byOffender);
    }

    public Map<String, Long> byProcess() {
        return sorted(byProcess);
    }

    /** Failures per container of the failing process (runtime, name, image, id), largest first. */
    public Map<String, Long> byContainer() {
        return sorted(byContainer);
    }

    /** Failures per Kubernetes pod of the failing process (namespace/name, uid, QoS class), largest first. */
    public Map<String, Long> byPod() {
        return sorted(byPod);
    }

    /** Dropped failures (ring buffer full) over all captures, from the last Stats of each. */
    public long dropped() {
        return captures.values().stream().filter(c -> c.last != null).mapToLong(c -> c.last.getDropped()).sum();
    }

    /** Records lost on the way to a network sink (Stats.undeliverable) over all captures. */
    public long undeliverable() {
        return captures.values().stream().filter(c -> c.last != null).mapToLong(c -> c.last.getUndeliverable()).sum();
    }

    /** Failures per host (the header's host name), largest first. */
    public Map<String, Long> byHost() {
        return sorted(byHost);
    }

    /**
     * Why a capture's stream is incomplete, each reason one phrase; empty when it is whole: nothing dropped,
     * nothing undeliverable or missing, and a final tally at its end.
     */
    static List<String> gaps(Capture c) {
        List<String> reasons = new ArrayList<>();
        if (c.last != null && c.last.getDropped() > 0) {
            reasons.add(c.last.getDropped() + " dropped (ring buffer full)");
        }
        if (c.last != null && c.last.getUndeliverable() > 0) {
            reasons.add(c.last.getUndeliverable() + " records undeliverable to Kafka (counted by the writer)");
        }
        if (c.missingRecords > 0) {
            reasons.add(c.missingRecords + " records missing from the topic (sequence gaps)");
        }
        if (c.headerMissing) {
            reasons.add("its header was not read (before from=, or gone with the topic's retention)");
        }
        if (c.last == null) {
            reasons.add("no Stats record");
        } else if (!c.last.getFinal()) {
            reasons.add("no final tally (still running, or ended without one: killed or restarted)");
        }
        return reasons;
    }

    public long collapsed() {
        return captures.values().stream().filter(c -> c.last != null).mapToLong(c -> c.last.getCollapsed()).sum();
    }

    /** Largest first, what did not fit as "(others)" among them. */
    private static Map<String, Long> sorted(Tally<String, ?> table) {
        Map<String, Long> out = new LinkedHashMap<>();
        table.largestFirst(OTHERS).forEach(row -> out.put(row.key(), row.counter().count()));
        return out;
    }

    private List<ScopeTotal> scopes() {
        return byScope.largestFirst(new ScopeKey(ScopeKind.SCOPE_KIND_UNSPECIFIED, OTHERS)).stream()
                .map(Tally.Row::counter).toList();
    }

    /** A histogram of the timed failures: bucket width in seconds, first bucket start (ms), counts. */
    public record Histogram(long bucketSeconds, long startMillis, long[] counts) {}

    public Histogram histogram() {
        if (timed == 0) {
            return new Histogram(0, 0, new long[0]);
        }
        long[] sorted = Arrays.copyOf(times, timed);
        Arrays.sort(sorted);
        long first = sorted[0];
        long last = sorted[timed - 1];
        long width = BUCKET_SECONDS[BUCKET_SECONDS.length - 1];
        for (long w : BUCKET_SECONDS) {
            long start = Math.floorDiv(first, w * 1000) * w * 1000;
            if ((last - start) / (w * 1000) + 1 <= MAX_BUCKETS) {
                width = w;
                break;
            }
        }
        long start = Math.floorDiv(first, width * 1000) * width * 1000;
        int n = (int) Math.min(Integer.MAX_VALUE - 8, (last - start) / (width * 1000) + 1);
        long[] counts = new long[n];
        for (long t : sorted) {
            counts[(int) Math.min(n - 1, (t - start) / (width * 1000))]++;
        }
        return new Histogram(width, start, counts);
    }

    private Instant first() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < timed; i++) {
            min = Math.min(min, times[i]);
        }
        return timed == 0 ? null : Instant.ofEpochMilli(min);
    }

    private Instant last() {
        long max = Long.MIN_VALUE;
        for (int i = 0; i < timed; i++) {
            max = Math.max(max, times[i]);
        }
        return timed == 0 ? null : Instant.ofEpochMilli(max);
    }

    // ---------------------------------------------------------------- what the HTML page draws

    /** One row of the scope table. */
    record ScopeRow(String kind, String name, long limit, long highestCurrent, long count) {}

    List<ScopeRow> scopeRows() {
        return scopes().stream().map(t -> new ScopeRow(t.scope.getKind().name(), t.scope.getName(), t.scope.getLimit(),
                t.maxCurrent, t.count())).toList();
    }

    /** Captures by host, then start time: the same order whichever order the inputs (or partitions) came in. */
    List<Capture> captureList() {
        return captures.values().stream().sorted(Comparator.comparing((Capture c) -> c.header.getHostName())
                .thenComparingLong(c -> c.header.getStartTime().getSeconds())
                .thenComparingInt(c -> c.header.getStartTime().getNanos())
                .thenComparing(c -> c.header.getCaptureId())).toList();
    }

    /** Cause names in the order first seen: the index {@link #histogramByCause} rows use. */
    List<String> causeNames() {
        return List.copyOf(causeNames);
    }

    /** The histogram's counts split by cause: [cause index][bucket]. */
    long[][] histogramByCause(Histogram h) {
        long[][] counts = new long[causeNames.size()][h.counts().length];
        long width = h.bucketSeconds() * 1000;
        for (int i = 0; i < timed; i++) {
            int bucket = (int) Math.min(h.counts().length - 1, (times[i] - h.startMillis()) / width);
            counts[timeCauses[i]][bucket]++;
        }
        return counts;
    }

    List<Kept> keptFailures() {
        return List.copyOf(kept);
    }

    Instant firstTime() {
        return first();
    }

    Instant lastTime() {
        return last();
    }

    /** One self-contained HTML page (keep failures with {@link #keepFailures} to list them). */
    public String toHtml() {
        return new HtmlReport(this).render();
    }

    // ---------------------------------------------------------------- text

    public String toText() {
        StringBuilder b = new StringBuilder();
        Instant first = first();
        Instant last = last();
        b.append("forktrace report: ").append(failures).append(failures == 1 ? " failure" : " failures");
        if (first != null) {
            b.append(" from ").append(TIME.format(first)).append(" to ").append(TIME.format(last))
                    .append(" (").append(human(Duration.between(first, last))).append(')');
        }
        b.append('\n');
        if (untimed > 0) {
            b.append("  (").append(untimed).append(" without a time)\n");
        }
        b.append("\nInputs\n");
        for (Input in : inputs) {
            b.append("  ").append(in.source()).append(": ").append(plural(in.records(), "record")).append(", ")
                    .append(plural(in.failures(), "failure")).append(", ").append(in.bytes()).append(" bytes read");
            if (!in.damagedRegions().isEmpty()) {
                b.append("\n    DAMAGED: ").append(StreamReader.describeDamage(in.damagedRegions()));
            }
            if (in.duplicates() > 0) {
                b.append("\n    duplicates: ").append(in.duplicates()).append(" failure(s) already read, counted once");
            }
            if (in.damage() != null) {
                b.append("\n    DAMAGED: ").append(in.damage().getMessage());
            }
            b.append('\n');
            in.warnings().forEach(w -> b.append("    warning: ").append(w).append('\n'));
        }
        if (headroomRecords > 0) {
            b.append("\nHeadroom warnings (").append(headroomRecords).append(" crossings and recoveries)\n");
            for (dev.forktrace.proto.v1.Headroom h : headroom) {
                b.append("  ").append(TIME.format(Instant.ofEpochSecond(h.getTime().getSeconds(), h.getTime().getNanos())))
                        .append(' ').append(h.getState()).append(' ').append(h.getMessage()).append('\n');
            }
            if (headroomRecords > headroom.size()) {
                b.append("  ... ").append(headroomRecords - headroom.size()).append(" more\n");
            }
        }
        table(b, "By cause", byCause(), failures);
        if (byHost.size() > 1) {
            table(b, "By host", byHost(), failures);
        }
        if (!byScope.isEmpty()) {
            b.append("\nBy scope (the limit that refused)\n");
            for (ScopeTotal t : scopes()) {
                b.append(String.format("  %8d  %s %s", t.count(), t.scope.getKind(), t.scope.getName()));
                if (t.scope.getLimit() != 0 || t.maxCurrent != 0) {
                    b.append(" (limit ").append(limit(t.scope.getLimit())).append(", highest current ")
                            .append(t.maxCurrent).append(')');
                }
                b.append('\n');
            }
        }
        table(b, "By offender (the top holder named in each failure)", byOffender(), failures);
        table(b, "By failing process", byProcess(), failures);
        if (!byContainer.isEmpty()) {
            table(b, "By container (of the failing process)", byContainer(), failures);
        }
        if (!byPod.isEmpty()) {
            table(b, "By pod (of the failing process)", byPod(), failures);
        }
        table(b, "By errno", sorted(byErrno), failures);
        Histogram h = histogram();
        if (h.counts().length > 0) {
            b.append("\nRate (failures per ").append(human(Duration.ofSeconds(h.bucketSeconds()))).append(")\n");
            long max = Arrays.stream(h.counts()).max().orElse(1);
            DateTimeFormatter label = DateTimeFormatter.ofPattern(
                    h.bucketSeconds() >= 86400 ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
            for (int i = 0; i < h.counts().length; i++) {
                long c = h.counts()[i];
                int bar = c == 0 ? 0 : (int) Math.max(1, Math.round(40.0 * c / max));
                b.append("  ").append(label.format(Instant.ofEpochMilli(h.startMillis() + i * h.bucketSeconds() * 1000)))
                        .append(" UTC |").append("#".repeat(bar)).append(' ').append(c).append('\n');
            }
        }
        b.append("\nCaptures\n");
        for (Capture c : captureList()) {
            StreamHeader hd = c.header;
            b.append("  ").append(hd.getHostName().isEmpty() ? "(unnamed host)" : hd.getHostName());
            if (!hd.getKernelRelease().isEmpty()) {
                b.append(", Linux ").append(hd.getKernelRelease());
            }
            if (hd.hasStartTime()) {
                b.append(", started ").append(TIME.format(instant(hd.getStartTime())));
            }
            if (hd.getFiltersCount() > 0) {
                b.append(", filters ").append(String.join(" ", hd.getFiltersList()));
            }
            if (!hd.getCaptureId().isEmpty()) {
                b.append(", capture ").append(hd.getCaptureId());
            }
            b.append(": ").append(c.failures).append(" failures recorded");
            if (c.last != null) {
                b.append(", delivered ").append(c.last.getDelivered()).append(", dropped ").append(c.last.getDropped())
                        .append(", collapsed ").append(c.last.getCollapsed())
                        .append(c.last.getFinal() ? "" : " (no final tally: the capture did not end cleanly)");
            } else {
                b.append(" (no Stats record)");
            }
            b.append('\n');
            if (c.last != null && c.last.getCauseScopeCountsCount() > 0) {
                b.append("    exact by cause and scope (delivered + counted in the kernel by signature):\n");
                for (var row : c.last.getCauseScopeCountsList()) {
                    b.append("      ").append(dev.forktrace.pipeline.SignatureTally.describe(row)).append('\n');
                }
                if (c.last.getSignatureOverflow() > 0) {
                    b.append("      ").append(c.last.getSignatureOverflow())
                            .append(" dropped failures counted by errno only (the kernel's signature table was full)\n");
                }
            }
        }
        b.append("\nGaps (hosts whose streams are incomplete)\n");
        boolean anyGap = false;
        for (Capture c : captureList()) {
            List<String> reasons = gaps(c);
            if (!reasons.isEmpty()) {
                anyGap = true;
                b.append("  ").append(hostOf(c.header))
                        .append(c.header.getCaptureId().isEmpty() ? "" : " capture " + c.header.getCaptureId())
                        .append(": ").append(String.join("; ", reasons)).append('\n');
            }
            if (c.duplicateRecords > 0) {
                b.append("  ").append(hostOf(c.header)).append(": ").append(c.duplicateRecords)
                        .append(" repeated records skipped (not counted twice)\n");
            }
        }
        if (!anyGap) {
            b.append("  none: every capture ended with a final tally, nothing dropped, undeliverable or missing\n");
        }
        b.append("\nDropped (ring buffer full, counted but not delivered): ").append(dropped()).append('\n');
        return b.toString();
    }

    private static void table(StringBuilder b, String title, Map<String, Long> rows, long total) {
        if (rows.isEmpty()) {
            return;
        }
        b.append('\n').append(title).append('\n');
        rows.forEach((k, v) -> b.append(String.format("  %8d  %5.1f%%  %s%n", v, total == 0 ? 0.0 : 100.0 * v / total, k)));
    }

    private static String plural(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private static String limit(long limit) {
        return limit == Long.MAX_VALUE ? "max" : Long.toString(limit);
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 60) {
            return d.toMillis() % 1000 == 0 || s >= 10 ? s + "s" : String.format("%.3fs", d.toMillis() / 1000.0);
        }
        if (s < 3600) {
            return (s / 60) + "m" + (s % 60 == 0 ? "" : " " + (s % 60) + "s");
        }
        if (s < 86400) {
            return (s / 3600) + "h" + (s % 3600 / 60 == 0 ? "" : " " + (s % 3600 / 60) + "m");
        }
        return (s / 86400) + "d" + (s % 86400 / 3600 == 0 ? "" : " " + (s % 86400 / 3600) + "h");
    }

    private static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    // ---------------------------------------------------------------- JSON

    public String toJson() {
        Json j = new Json();
        j.open('{');
        j.key("failures").value(failures);
        j.key("untimed").value(untimed);
        Instant first = first();
        j.key("first").value(first == null ? null : TIME.format(first));
        j.key("last").value(first == null ? null : TIME.format(last()));
        j.key("inputs").open('[');
        for (Input in : inputs) {
            j.open('{').key("file").value(in.source()).key("records").value(in.records()).key("bytes").value(in.bytes())
                    .key("failures").value(in.failures());
            j.key("damage");
            if (in.damage() == null) {
                j.value(null);
            } else {
                StreamFormatException e = in.damage();
                j.open('{').key("kind").value(e.kind().name()).key("offset").value(e.offset())
                        .key("reason").value(e.reason()).key("message").value(e.getMessage()).close('}');
            }
            j.key("skipped_offsets").open('[');
            in.skipped().forEach(j::value);
            j.close(']');
            j.key("skipped_bytes").value(in.damagedRegions().stream().mapToLong(StreamReader.DamagedRegion::bytes).sum());
            j.key("damaged_regions").open('[');
            for (StreamReader.DamagedRegion d : in.damagedRegions()) {
                j.open('{').key("offset").value(d.offset()).key("bytes").value(d.bytes())
                        .key("failures_missing").value(d.failuresMissing()).key("reason").value(d.reason()).close('}');
            }
            j.close(']');
            j.key("duplicates").value(in.duplicates());
            j.key("warnings").open('[');
            in.warnings().forEach(j::value);
            j.close(']').close('}');
        }
        j.close(']');
        j.key("headroom_records").value(headroomRecords);
        j.key("headroom").open('[');
        for (dev.forktrace.proto.v1.Headroom h : headroom) {
            j.open('{').key("time").value(TIME.format(Instant.ofEpochSecond(h.getTime().getSeconds(), h.getTime().getNanos())))
                    .key("state").value(h.getState().name()).key("kind").value(h.getKind().name())
                    .key("name").value(h.getName()).key("limit_name").value(h.getLimitName())
                    .key("used").value(h.getUsed()).key("limit").value(h.getLimit())
                    .key("message").value(h.getMessage()).close('}');
        }
        j.close(']');
        countTable(j, "by_cause", "cause", byCause());
        j.key("by_scope").open('[');
        for (ScopeTotal t : scopes()) {
            j.open('{').key("kind").value(t.scope.getKind().name()).key("name").value(t.scope.getName())
                    .key("limit").value(t.scope.getLimit()).key("highest_current").value(t.maxCurrent)
                    .key("count").value(t.count()).close('}');
        }
        j.close(']');
        countTable(j, "by_host", "host", byHost());
        countTable(j, "by_offender", "offender", byOffender());
        countTable(j, "by_process", "process", byProcess());
        countTable(j, "by_container", "container", byContainer());
        countTable(j, "by_pod", "pod", byPod());
        countTable(j, "by_errno", "errno", sorted(byErrno));
        Histogram h = histogram();
        j.key("rate").open('{').key("bucket_seconds").value(h.bucketSeconds()).key("buckets").open('[');
        for (int i = 0; i < h.counts().length; i++) {
            j.open('{').key("start").value(TIME.format(Instant.ofEpochMilli(h.startMillis() + i * h.bucketSeconds() * 1000)))
                    .key("count").value(h.counts()[i]).close('}');
        }
        j.close(']').close('}');
        j.key("captures").open('[');
        for (Capture c : captureList()) {
            StreamHeader hd = c.header;
            j.open('{').key("host").value(hd.getHostName()).key("kernel").value(hd.getKernelRelease())
                    .key("boot_id").value(hd.getBootId())
                    .key("capture_id").value(hd.getCaptureId())
                    .key("start").value(hd.hasStartTime() ? TIME.format(instant(hd.getStartTime())) : null)
                    .key("schema_version").value(hd.getSchemaVersion())
                    .key("failures_recorded").value(c.failures);
            j.key("stats");
            if (c.last == null) {
                j.value(null);
            } else {
                j.open('{').key("delivered").value(c.last.getDelivered()).key("dropped").value(c.last.getDropped())
                        .key("collapsed").value(c.last.getCollapsed()).key("final").value(c.last.getFinal())
                        .key("undeliverable").value(c.last.getUndeliverable())
                        .key("aggregated").value(c.last.getAggregated())
                        .key("signature_overflow").value(c.last.getSignatureOverflow());
                j.key("cause_scope_counts").open('[');
                for (var row : c.last.getCauseScopeCountsList()) {
                    j.open('{').key("cause").value(row.getCause().name()).key("scope_kind").value(row.getScopeKind().name())
                            .key("scope").value(row.getScope()).key("delivered").value(row.getDelivered())
                            .key("aggregated").value(row.getAggregated()).close('}');
                }
                j.close(']').close('}');
            }
            j.key("missing_records").value(c.missingRecords).key("duplicate_records").value(c.duplicateRecords)
                    .key("header_missing").value(c.headerMissing);
            j.key("gaps").open('[');
            gaps(c).forEach(j::value);
            j.close(']');
            j.close('}');
        }
        j.close(']');
        j.key("dropped").value(dropped());
        j.key("collapsed").value(collapsed());
        j.key("undeliverable").value(undeliverable());
        j.close('}');
        return j.toString() + "\n";
    }

    private static void countTable(Json j, String name, String keyName, Map<String, Long> rows) {
        j.key(name).open('[');
        rows.forEach((k, v) -> j.open('{').key(keyName).value(k).key("count").value(v).close('}'));
        j.close(']');
    }

    /** A minimal JSON writer: the report's shape is fixed, so no library is needed. */
    private static final class Json {
        private final StringBuilder b = new StringBuilder();
        private boolean needComma;

        Json open(char c) {
            comma();
            b.append(c);
            needComma = false;
            return this;
        }

        Json close(char c) {
            b.append(c);
            needComma = true;
            return this;
        }

        Json key(String k) {
            comma();
            string(k);
            b.append(':');
            needComma = false;
            return this;
        }

        Json value(long v) {
            comma();
            b.append(v);
            needComma = true;
            return this;
        }

        Json value(boolean v) {
            comma();
            b.append(v);
            needComma = true;
            return this;
        }

        Json value(String v) {
            comma();
            if (v == null) {
                b.append("null");
            } else {
                string(v);
            }
            needComma = true;
            return this;
        }

        private void comma() {
            if (needComma) {
                b.append(',');
            }
        }

        private void string(String s) {
            b.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            b.append('"');
        }

        @Override
        public String toString() {
            return b.toString();
        }
    }
}
