package dev.forktrace.metrics;

import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.Container;
import dev.forktrace.proto.v1.ErrnoCount;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Headroom;
import dev.forktrace.proto.v1.HookStatus;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.proto.v1.StreamHeader;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.BindException;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Prometheus exposition of a capture. Counters are fed by the consumer thread (accept, stats); a scrape reads
 * them on the HTTP server's thread. No label carries a pid or tid: those are per-event facts that belong
 * in the event stream, and as labels they would grow series without bound.
 */
public final class PrometheusSink implements FailureSink {
    public static final int DEFAULT_TOP_SCOPES = 20;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter failures;
    private final Counter scopeFailures;
    private final Counter podFailures;
    private final Info hookInfo;
    private final Info buildInfo;
    private final Info kernelInfo;
    private final BoundedLabels scopes;
    private final BoundedLabels pods;
    private final int topScopes;
    // Cached data points: a storm delivers thousands of failures a second, each would otherwise look its
    // series up by a fresh String[].
    private final Map<FailureKey, CounterDataPoint> failureSeries = new HashMap<>();
    private final Map<ScopeKey, CounterDataPoint> scopeSeries = new HashMap<>();
    private volatile Stats lastStats = Stats.getDefaultInstance();
    private volatile Supplier<List<Headroom>> headroom = List::of;
    private HTTPServer server;

    private record FailureKey(dev.forktrace.proto.v1.Cause cause, String errno, dev.forktrace.proto.v1.ScopeKind kind) {}

    private record ScopeKey(dev.forktrace.proto.v1.ScopeKind kind, String scope, dev.forktrace.proto.v1.Cause cause) {}

    /** Kubernetes identity of the failing process (ForkFailure.container), for forktrace_pod_failures_total. */
    public record Workload(String namespace, String pod, String container) {}

    /** Builds the metrics, including the JVM's own; {@link #serve} starts the HTTP endpoint. */
    public PrometheusSink(int topScopes) {
        this.topScopes = topScopes;
        this.scopes = new BoundedLabels(topScopes);
        this.pods = new BoundedLabels(topScopes);
        failures = Counter.builder().name("forktrace_failures_total")
                .help("Failed task creations (fork, clone, vfork, clone3) attributed and delivered, by cause, errno and the kind of limit that refused them")
                .labelNames("cause", "errno", "scope_kind").register(registry);
        scopeFailures = Counter.builder().name("forktrace_scope_failures_total")
                .help("Failed task creations by the limit (scope) that refused them; the first " + topScopes
                        + " scopes to fail have their own series, the rest are scope=\"other\"")
                .labelNames("scope_kind", "scope", "cause").register(registry);
        podFailures = Counter.builder().name("forktrace_pod_failures_total")
                .help("Failed task creations by Kubernetes pod and container of the failing process, where known; the first "
                        + topScopes + " pods have their own series, the rest are pod=\"other\"")
                .labelNames("namespace", "pod", "container", "cause").register(registry);
        CounterWithCallback.builder().name("forktrace_kernel_failures_total")
                .help("Failed task creations counted in the kernel (within the filter), by errno; includes failures the ring buffer had no room for")
                .labelNames("errno")
                .callback(callback -> {
                    for (ErrnoCount count : lastStats.getKernelErrnoCountsList()) {
                        callback.call(count.getCount(), count.getErrno());
                    }
                }).register(registry);
        CounterWithCallback.builder().name("forktrace_events_delivered_total")
                .help("Failure events read from the ring buffer and attributed")
                .callback(callback -> callback.call(lastStats.getDelivered())).register(registry);
        CounterWithCallback.builder().name("forktrace_events_dropped_total")
                .help("Failure events lost because the ring buffer was full (counted in the kernel, not attributed)")
                .callback(callback -> callback.call(lastStats.getDropped())).register(registry);
        CounterWithCallback.builder().name("forktrace_events_aggregated_total")
                .help("Failures the ring buffer had no room for, counted in the kernel by signature and attributed from it")
                .callback(callback -> callback.call(lastStats.getAggregated())).register(registry);
        CounterWithCallback.builder().name("forktrace_cause_failures_total")
                .help("Every failed task creation by cause and scope kind, delivered or counted in the kernel when the ring was full (exact in a storm)")
                .labelNames("cause", "scope_kind")
                .callback(callback -> {
                    java.util.Map<java.util.List<String>, Long> byCause = new java.util.TreeMap<>(
                            java.util.Comparator.comparing((java.util.List<String> k) -> k.get(0)).thenComparing(k -> k.get(1)));
                    for (var count : lastStats.getCauseScopeCountsList()) {
                        byCause.merge(java.util.List.of(count.getCause().name(), count.getScopeKind().name()),
                                count.getDelivered() + count.getAggregated(), Long::sum);
                    }
                    byCause.forEach((k, v) -> callback.call(v, k.get(0), k.get(1)));
                }).register(registry);
        CounterWithCallback.builder().name("forktrace_signature_overflow_total")
                .help("Dropped failures whose signature found the kernel's signature table full (counted by errno only)")
                .callback(callback -> callback.call(lastStats.getSignatureOverflow())).register(registry);
        CounterWithCallback.builder().name("forktrace_records_undeliverable_total")
                .help("Stream records a network sink (watch --kafka) could not deliver")
                .callback(callback -> callback.call(lastStats.getUndeliverable())).register(registry);
        CounterWithCallback.builder().name("forktrace_events_collapsed_total")
                .help("Delivered failures folded into an earlier identical one by the text output's storm collapsing")
                .callback(callback -> callback.call(lastStats.getCollapsed())).register(registry);
        CounterWithCallback.builder().name("forktrace_scope_labels_overflowed_total")
                .help("Failures counted under scope=\"other\" or pod=\"other\" because the label limit was reached")
                .callback(callback -> callback.call(scopes.overflowed() + pods.overflowed())).register(registry);
        GaugeWithCallback.builder().name("forktrace_scope_headroom_ratio")
                .help("Share of a limit still free (1 = unused, 0 = exhausted), for the " + topScopes + " scopes closest to their limit")
                .labelNames("scope_kind", "scope")
                .callback(callback -> headroom.get().stream()
                        .sorted(Comparator.comparingDouble(PrometheusSink::free))
                        .limit(topScopes)
                        .forEach(h -> callback.call(free(h), h.getKind().name(), h.getName())))
                .register(registry);
        hookInfo = Info.builder().name("forktrace_hook_info")
                .help("Kernel hooks of this capture: the tier each uses and whether it attached")
                .labelNames("hook", "tier", "attached").register(registry);
        buildInfo = Info.builder().name("forktrace_build_info").help("forktrace version")
                .labelNames("version").register(registry);
        kernelInfo = Info.builder().name("forktrace_kernel_info").help("Kernel release forktrace runs on")
                .labelNames("release").register(registry);
        JvmMetrics.builder().register(registry);
    }

    /**
     * Starts the HTTP endpoint.
     *
     * @throws IOException whose message says what to do, when the address cannot be bound
     */
    public int serve(MetricsAddress address) throws IOException {
        try {
            server = HTTPServer.builder().inetAddress(address.address()).port(address.port()).registry(registry)
                    .buildAndStart();
        } catch (BindException e) {
            throw new IOException("cannot listen on " + address.address().getHostAddress() + ":" + address.port() + ": "
                    + e.getMessage() + " (another process has the port, or the address is not this machine's; choose another with --metrics [ADDR:]PORT)", e);
        }
        return server.getPort();
    }

    /**
     * Serve headroom gauges from this source: the headroom monitor's latest value of every watched scope, read
     * on the scraping thread.
     */
    public void headroom(Supplier<List<Headroom>> latest) {
        this.headroom = latest;
    }

    /** The share of the limit still free, 0..1 (Headroom.ratio is the share used). */
    static double free(Headroom h) {
        return h.getLimit() <= 0 ? 1.0 : Math.max(0.0, (double) (h.getLimit() - h.getUsed()) / h.getLimit());
    }

    PrometheusRegistry registry() {
        return registry;
    }

    @Override
    public void start(StreamHeader header) {
        buildInfo.setLabelValues(header.getForktraceVersion());
        kernelInfo.setLabelValues(header.getKernelRelease());
        for (HookStatus hook : header.getHooksList()) {
            hookInfo.addLabelValues(hook.getHook(), tierName(hook), Boolean.toString(hook.getAttached()));
        }
    }

    private static String tierName(HookStatus hook) {
        return switch (hook.getTier()) {
            case FENTRY -> "fentry";
            case KPROBE -> "kprobe";
            case TRACEPOINT -> "tracepoint";
            default -> "none";
        };
    }

    @Override
    public void accept(ForkFailure f) {
        failureSeries.computeIfAbsent(new FailureKey(f.getCause(), f.getErrno(), f.getScope().getKind()),
                k -> failures.labelValues(k.cause().name(), k.errno(), k.kind().name())).inc();
        String scope = scopes.label(f.getScope().getName());
        scopeSeries.computeIfAbsent(new ScopeKey(f.getScope().getKind(), scope, f.getCause()),
                k -> scopeFailures.labelValues(k.kind().name(), k.scope(), k.cause().name())).inc();
        Workload workload = workloadOf(f);
        if (workload != null) {
            String pod = pods.label(workload.namespace() + "/" + workload.pod());
            boolean own = !pod.equals(BoundedLabels.OTHER);
            podFailures.labelValues(own ? workload.namespace() : BoundedLabels.OTHER, own ? workload.pod() : BoundedLabels.OTHER,
                    own ? workload.container() : BoundedLabels.OTHER, f.getCause().name()).inc();
        }
    }

    /** The pod of the failing process, or null on the host and in a container outside Kubernetes. */
    static Workload workloadOf(ForkFailure f) {
        if (!f.hasContainer()) {
            return null;
        }
        Container c = f.getContainer();
        // The pod's name comes from the runtime's labels; where those could not be read, its UID from the path.
        String pod = !c.getPodName().isEmpty() ? c.getPodName() : c.getPodUid();
        if (pod.isEmpty()) {
            return null;
        }
        return new Workload(c.getPodNamespace(), pod, !c.getContainerName().isEmpty() ? c.getContainerName() : c.getName());
    }

    @Override
    public void stats(Stats stats) {
        lastStats = stats;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
            server = null;
        }
    }
}
