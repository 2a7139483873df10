package dev.forktrace.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.attribution.Attribution;
import dev.forktrace.attribution.Attributor;
import dev.forktrace.attribution.RawEvent;
import dev.forktrace.attribution.SystemState;
import dev.forktrace.bpf.EventLayout;
import dev.forktrace.output.DiagnosisJson;
import dev.forktrace.output.FailureJson;
import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Confidence;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.proto.v1.Syscall;
import dev.forktrace.proto.v1.Tier;
import dev.forktrace.stream.DiagnosisProto;
import dev.forktrace.system.CgroupPaths;
import dev.forktrace.system.ProcessInspector;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The direct encoders against the generated classes: DiagnosisProto's bytes parse with ForkFailure and
 * equal the message-built record byte for byte; DiagnosisJson's line equals FailureJson's (itself tied to
 * JsonFormat by FailureJsonTest). Over every recorded kernel record (bench/data/ft_events.bin) and over
 * failures with every field set, each encoded twice, so the kept-bytes paths are compared too.
 */
class DiagnosisEncodersTest {
    private static final Path RECORDED = Path.of("bench/data/ft_events.bin");

    private final DiagnosisJson json = new DiagnosisJson();
    private final DiagnosisProto proto = new DiagnosisProto();
    private final FailureJson reference = new FailureJson();

    private void assertEncodersAgree(Diagnosis d) throws Exception {
        ForkFailure built = d.toForkFailure();
        for (int round = 0; round < 3; round++) { // first sight, second (kept now), kept
            byte[] bytes = Arrays.copyOf(proto.encode(d), proto.length());
            assertArrayEquals(built.toByteArray(), bytes, "protobuf bytes of " + built);
            // Parsed, it is the message-built record as read back (an unpaired surrogate reads back as '?' either way).
            assertEquals(ForkFailure.parseFrom(built.toByteArray()), ForkFailure.parseFrom(bytes));
            // The bytes JsonLinesSink.accept(ForkFailure) writes: FailureJson's line in UTF-8, then a newline.
            String expected = reference.format(built) + "\n";
            String line = new String(json.encodeLine(d), 0, json.length(), StandardCharsets.UTF_8);
            assertEquals(new String(expected.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8), line);
            assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), Arrays.copyOf(json.encodeLine(d), json.length()));
        }
    }

    @Test
    void everyRecordedEventEncodesAsTheGeneratedClassesDo() throws Exception {
        byte[] recorded = Files.readAllBytes(RECORDED);
        int count = recorded.length / (int) EventLayout.EVENT_SIZE;
        assertTrue(count > 0 && recorded.length % EventLayout.EVENT_SIZE == 0, RECORDED + " holds whole records");
        SystemState system = new SystemState(190_000, 400, 4_194_304, 0, 2L << 30, 12L << 30);
        // No cgroup hierarchies: the recorded cgroups are gone, and walking this machine's for them is slow.
        FailureAssembler assembler = new FailureAssembler(new CgroupPaths(java.util.Map.of()), new ProcessInspector(), 0);
        Set<String> causes = new TreeSet<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate(recorded.length, 8);
            MemorySegment.copy(recorded, 0, events, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, recorded.length);
            RawEvent raw = new RawEvent();
            Attribution attribution = new Attribution();
            Attributor attributor = new Attributor();
            Diagnosis d = new Diagnosis(); // one, reused, as on the consumer thread
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < count; i++) {
                    raw.wrap(events, (long) i * EventLayout.EVENT_SIZE);
                    attributor.attribute(raw, system, attribution);
                    assembler.diagnose(i + 1, raw, attribution, system, d);
                    causes.add(d.cause() + "/" + d.scopeKind());
                    assertEncodersAgree(d);
                }
            }
        }
        assertTrue(causes.size() >= 2, "the recorded events cover more than one cause: " + causes);
    }

    @Test
    void aFailureWithEveryFieldSetEncodesAsTheGeneratedClassesDo() throws Exception {
        assertEncodersAgree(everyField("web \"1\" <&='\u00e9\u2028\ud83d\ude00\ud800>\t\n", -1L, -1));
        assertEncodersAgree(everyField("plain", Long.MAX_VALUE, Integer.MAX_VALUE));
        assertEncodersAgree(everyField("x", Long.MIN_VALUE, Integer.MIN_VALUE));
        Diagnosis empty = new Diagnosis();
        assertEncodersAgree(empty);
    }

    private static Diagnosis everyField(String text, long big, int medium) {
        Container container = Container.newBuilder().setRuntime("docker").setId("abc" + text).setName(text)
                .setImage("img").setPodUid("pod").setQosClass("burstable").setPodNamespace("ns").setPodName("p")
                .setContainerName("c").setCgroupPath("/docker/" + text).setCgroupDriver("cgroupfs").build();
        Offender offender = Offender.newBuilder().setPid(medium).setComm(text).setTasks(medium).setUid(medium)
                .setCmdline(text + " --flag").setContainerId("abc").setMemoryBytes(big).setContainer(container)
                .setNsPid(7).setProcessCount(3).setExe("/bin/" + text).setAncestorPid(1).setAncestorComm("init").build();
        Diagnosis d = new Diagnosis();
        d.sequence = big;
        d.timeSeconds = 1_764_633_600L;
        d.timeNanos = 123_456_789;
        d.ktimeNs = big;
        d.syscall = Syscall.CLONE3;
        d.errno = "EAGAIN";
        d.errnoValue = medium;
        d.pid = medium;
        d.tid = medium;
        d.ppid = medium;
        d.uid = medium;
        d.comm = text;
        d.processComm = text + "2";
        d.cloneFlags = big;
        d.cloneFlagNames = List.of("CLONE_VM", "", text);
        d.thread = true;
        d.cgroupId = big;
        d.pidNamespaceInum = medium;
        d.pidNamespaceLevel = 2;
        d.tier = Tier.TRACEPOINT;
        d.cause = Cause.PIDS_CGROUP_LIMIT;
        d.confidence = Confidence.CONFIRMED;
        d.addEvidence("pids.current", text, big, -big, "at_or_above_limit");
        d.addEvidence("", "", 0, 0, "");
        d.scopeKind = ScopeKind.CGROUP;
        d.scopeName = "/" + text;
        d.scopeLimit = big;
        d.scopeCurrent = -5;
        d.scopeKnob = "pids.max of " + text;
        d.scopeContainer = container;
        d.offenders = List.of(offender, Offender.getDefaultInstance());
        d.offenderRanking = "tasks";
        d.message = "EAGAIN: " + text;
        d.javaMain = "com.example.Main";
        d.container = container;
        d.nsPid = medium;
        d.pidNamespaceCount = 2;
        for (int i = 0; i < 2; i++) {
            d.pidNamespaceInums[i] = medium - i;
            d.pidNamespaceLevels[i] = i;
            d.pidsAllocated[i] = medium;
            d.pidNamespaceAccepting[i] = i == 0;
            d.pidMax[i] = medium;
        }
        d.pidsCgroupCount = 3;
        for (int i = 0; i < 3; i++) {
            d.pidsCgroupIds[i] = big - i;
            d.pidsCgroupPaths[i] = "/" + text + "/" + i;
            d.pidsCurrent[i] = big;
            d.pidsLimit[i] = -big;
            d.pidsEvents[i] = i;
            d.pidsEventsAtEntry[i] = medium;
            d.pidsLimitHits[i] = big;
            d.pidsLimitHitsAtEntry[i] = -1;
        }
        d.rlimitNproc = big;
        d.nprocCount = -big;
        d.userNsInum = medium;
        d.capEffective = big;
        d.hasMemcg = true;
        d.memcgId = big;
        d.memcgPath = "/memory/" + text;
        d.memcgUsageBytes = big;
        d.memcgMaxBytes = -big;
        d.memcgFailcnt = 1;
        d.memcgEventsMax = big;
        d.memcgEventsMaxAtEntry = 2;
        d.memcgEventsOom = 3;
        d.memcgKmemUsageBytes = big;
        d.memcgKmemMaxBytes = 4;
        d.hookBits = (1 << EventLayout.EVIDENCE_NAMES.length) - 1;
        d.allocPidError = medium;
        d.pidsCanForkError = -11;
        d.slabCache = text;
        d.pageCounterUsageBytes = big;
        d.pageCounterMaxBytes = big;
        d.threadsMax = big;
        d.nrThreads = medium;
        d.globalPidMax = big;
        d.overcommitMemory = 2;
        d.committedAsBytes = big;
        d.commitLimitBytes = -big;
        return d;
    }
}
