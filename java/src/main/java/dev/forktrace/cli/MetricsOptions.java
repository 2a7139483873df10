package dev.forktrace.cli;

import dev.forktrace.metrics.MetricsAddress;
import dev.forktrace.metrics.PrometheusSink;
import dev.forktrace.output.FailureSink;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine.Option;

/**
 * --metrics: a Prometheus endpoint for the capture. The Prometheus classes load only when it is given
 * (PrometheusSink is first touched in {@link #open}), so a plain watch starts as fast as before.
 */
final class MetricsOptions {
    @Option(names = "--metrics", paramLabel = "[ADDR:]PORT",
            description = "Serve Prometheus metrics at http://ADDR:PORT/metrics. ADDR defaults to 127.0.0.1; "
                    + "0.0.0.0:PORT listens on every interface (as a DaemonSet must, for Prometheus to reach it).")
    String address;

    @Option(names = "--metrics-top-scopes", paramLabel = "N",
            description = "Scopes (and pods) with their own series in the per-scope metrics; the rest are \"other\". Default: "
                    + PrometheusSink.DEFAULT_TOP_SCOPES + ".")
    int topScopes = PrometheusSink.DEFAULT_TOP_SCOPES;

    private PrometheusSink sink;

    /** Thrown for a usage error (exit 2), with the message to print. */
    static final class MetricsException extends Exception {
        MetricsException(String message) {
            super(message);
        }
    }

    /** The sink serving the endpoint, or null without --metrics. */
    FailureSink open(PrintStream err) throws MetricsException {
        if (address == null) {
            return null;
        }
        if (topScopes < 0) {
            throw new MetricsException("--metrics-top-scopes must not be negative");
        }
        MetricsAddress where;
        try {
            where = MetricsAddress.parse(address);
        } catch (IllegalArgumentException e) {
            throw new MetricsException(e.getMessage());
        }
        sink = new PrometheusSink(topScopes);
        try {
            int port = sink.serve(where);
            err.println("forktrace: metrics at " + where.url(port));
        } catch (IOException e) {
            throw new MetricsException("--metrics " + address + ": " + e.getMessage());
        }
        return sink;
    }

    /** Headroom gauges from the watch's headroom monitor (--warn-at); nothing without --metrics. */
    void headroom(Supplier<List<dev.forktrace.proto.v1.Headroom>> latest) {
        if (sink != null) {
            sink.headroom(latest);
        }
    }
}
