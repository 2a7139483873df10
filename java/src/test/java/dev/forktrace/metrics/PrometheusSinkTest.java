package dev.forktrace.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forktrace.proto.v1.Cause;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.Headroom;
import dev.forktrace.proto.v1.ErrnoCount;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.HookStatus;
import dev.forktrace.proto.v1.Scope;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.Tier;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The exposition over a real HTTP endpoint on a free loopback port: names, labels, values. */
class PrometheusSinkTest {
    private static ForkFailure failure(Cause cause, String errno, ScopeKind kind, String scope, int pid) {
        return ForkFailure.newBuilder().setCause(cause).setErrno(errno).setPid(pid).setTid(pid)
                .setScope(Scope.newBuilder().setKind(kind).setName(scope)).build();
    }

    private static Headroom headroom(ScopeKind kind, String name, long used, long limit) {
        return Headroom.newBuilder().setKind(kind).setName(name).setUsed(used).setLimit(limit)
                .setRatio((double) used / limit).build();
    }

    private static String scrape(int port) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    private static void assertLine(String body, String line) {
        assertTrue(body.lines().anyMatch(line::equals), "no line '" + line + "' in:\n" + body);
    }

    @Test
    void countsByCauseScopeAndStatsWithBoundedScopes() throws Exception {
        PrometheusSink sink = new PrometheusSink(2);
        int port = sink.serve(MetricsAddress.parse("127.0.0.1:0"));
        try {
            sink.start(StreamHeader.newBuilder().setForktraceVersion("0.1.0").setKernelRelease("6.18.44")
                    .addHooks(HookStatus.newBuilder().setHook("syscalls").setTier(Tier.TRACEPOINT).setAttached(true))
                    .addHooks(HookStatus.newBuilder().setHook("copy_process").setAttached(false)).build());
            sink.accept(failure(Cause.PIDS_CGROUP_LIMIT, "EAGAIN", ScopeKind.CGROUP, "/a", 101));
            sink.accept(failure(Cause.PIDS_CGROUP_LIMIT, "EAGAIN", ScopeKind.CGROUP, "/a", 102));
            sink.accept(failure(Cause.PIDS_CGROUP_LIMIT, "EAGAIN", ScopeKind.CGROUP, "/b", 103));
            sink.accept(failure(Cause.RLIMIT_NPROC, "EAGAIN", ScopeKind.USER, "uid 1000 (app)", 104));
            sink.accept(failure(Cause.PIDS_CGROUP_LIMIT, "EAGAIN", ScopeKind.CGROUP, "/a", 105));
            sink.stats(Stats.newBuilder().setDelivered(5).setDropped(7).setCollapsed(2).setAggregated(7)
                    .setUndeliverable(3).setSignatureOverflow(1)
                    .addCauseScopeCounts(dev.forktrace.proto.v1.CauseScopeCount.newBuilder().setCause(Cause.PIDS_CGROUP_LIMIT)
                            .setScopeKind(ScopeKind.CGROUP).setScope("/a").setDelivered(3).setAggregated(6))
                    .addCauseScopeCounts(dev.forktrace.proto.v1.CauseScopeCount.newBuilder().setCause(Cause.PIDS_CGROUP_LIMIT)
                            .setScopeKind(ScopeKind.CGROUP).setScope("/b").setDelivered(1).setAggregated(1))
                    .addCauseScopeCounts(dev.forktrace.proto.v1.CauseScopeCount.newBuilder().setCause(Cause.RLIMIT_NPROC)
                            .setScopeKind(ScopeKind.USER).setScope("uid 1000 (app)").setDelivered(1))
                    .addKernelErrnoCounts(ErrnoCount.newBuilder().setErrno("EAGAIN").setCount(12)).build());
            sink.headroom(() -> List.of(headroom(ScopeKind.CGROUP, "/a", 9, 10),
                    headroom(ScopeKind.USER, "uid 1000 (app)", 50, 100),
                    headroom(ScopeKind.SYSTEM, "kernel.threads-max", 1, 1000)));
            ForkFailure inPod = failure(Cause.PIDS_CGROUP_LIMIT, "EAGAIN", ScopeKind.CGROUP, "/a", 106).toBuilder()
                    .setContainer(Container.newBuilder().setRuntime("containerd").setPodNamespace("shop")
                            .setPodName("api-7d9f").setContainerName("api").setPodUid("0b7c-11")).build();
            sink.accept(inPod);
            sink.accept(inPod);
            // a pod whose labels could not be read: its UID from the cgroup path
            sink.accept(failure(Cause.PIDS_CGROUP_LIMIT, "EAGAIN", ScopeKind.CGROUP, "/a", 107).toBuilder()
                    .setContainer(Container.newBuilder().setRuntime("kubernetes").setPodUid("9e1f-22")).build());
            // a container outside Kubernetes has no pod series
            sink.accept(failure(Cause.PIDS_CGROUP_LIMIT, "EAGAIN", ScopeKind.CGROUP, "/a", 108).toBuilder()
                    .setContainer(Container.newBuilder().setRuntime("podman").setName("web")).build());

            String body = scrape(port);
            assertLine(body, "forktrace_failures_total{cause=\"PIDS_CGROUP_LIMIT\",errno=\"EAGAIN\",scope_kind=\"CGROUP\"} 8.0");
            assertLine(body, "forktrace_failures_total{cause=\"RLIMIT_NPROC\",errno=\"EAGAIN\",scope_kind=\"USER\"} 1.0");
            assertLine(body, "forktrace_scope_failures_total{cause=\"PIDS_CGROUP_LIMIT\",scope=\"/a\",scope_kind=\"CGROUP\"} 7.0");
            assertLine(body, "forktrace_pod_failures_total{cause=\"PIDS_CGROUP_LIMIT\",container=\"api\",namespace=\"shop\",pod=\"api-7d9f\"} 2.0");
            assertLine(body, "forktrace_pod_failures_total{cause=\"PIDS_CGROUP_LIMIT\",container=\"\",namespace=\"\",pod=\"9e1f-22\"} 1.0");
            assertFalse(body.contains("pod=\"web\"") || body.contains("container=\"web\""), body);
            assertLine(body, "forktrace_scope_failures_total{cause=\"PIDS_CGROUP_LIMIT\",scope=\"/b\",scope_kind=\"CGROUP\"} 1.0");
            // the third scope to fail, with a limit of 2
            assertLine(body, "forktrace_scope_failures_total{cause=\"RLIMIT_NPROC\",scope=\"other\",scope_kind=\"USER\"} 1.0");
            assertLine(body, "forktrace_scope_labels_overflowed_total 1.0");
            assertLine(body, "forktrace_events_delivered_total 5.0");
            assertLine(body, "forktrace_events_dropped_total 7.0");
            assertLine(body, "forktrace_events_collapsed_total 2.0");
            assertLine(body, "forktrace_kernel_failures_total{errno=\"EAGAIN\"} 12.0");
            // exact by cause: delivered plus what the kernel counted by signature while the ring was full
            assertLine(body, "forktrace_cause_failures_total{cause=\"PIDS_CGROUP_LIMIT\",scope_kind=\"CGROUP\"} 11.0");
            assertLine(body, "forktrace_cause_failures_total{cause=\"RLIMIT_NPROC\",scope_kind=\"USER\"} 1.0");
            assertLine(body, "forktrace_events_aggregated_total 7.0");
            assertLine(body, "forktrace_signature_overflow_total 1.0");
            assertLine(body, "forktrace_records_undeliverable_total 3.0");
            assertLine(body, "forktrace_hook_info{attached=\"true\",hook=\"syscalls\",tier=\"tracepoint\"} 1");
            assertLine(body, "forktrace_hook_info{attached=\"false\",hook=\"copy_process\",tier=\"none\"} 1");
            assertLine(body, "forktrace_build_info{version=\"0.1.0\"} 1");
            assertLine(body, "forktrace_kernel_info{release=\"6.18.44\"} 1");
            // the two scopes closest to their limit, lowest headroom first
            assertLine(body, "forktrace_scope_headroom_ratio{scope=\"/a\",scope_kind=\"CGROUP\"} 0.1");
            assertLine(body, "forktrace_scope_headroom_ratio{scope=\"uid 1000 (app)\",scope_kind=\"USER\"} 0.5");
            assertFalse(body.contains("kernel.threads-max"), body);
            assertTrue(body.contains("jvm_memory_used_bytes"), "the JVM's own metrics");
            assertFalse(Pattern.compile("[{,](pid|tid)=").matcher(body).find(), "no per-pid labels");
        } finally {
            sink.close();
        }
    }

    @Test
    void aPortInUseIsAClearError() throws Exception {
        PrometheusSink first = new PrometheusSink(1);
        int port = first.serve(MetricsAddress.parse("127.0.0.1:0"));
        try {
            PrometheusSink second = new PrometheusSink(1);
            IOException e = assertThrows(IOException.class, () -> second.serve(MetricsAddress.parse("127.0.0.1:" + port)));
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + port), e.getMessage());
            assertTrue(e.getMessage().contains("--metrics"), e.getMessage());
        } finally {
            first.close();
        }
    }
}
