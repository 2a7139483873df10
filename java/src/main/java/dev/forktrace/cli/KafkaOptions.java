package dev.forktrace.cli;

import dev.forktrace.output.FailureSink;
import dev.forktrace.pipeline.Capture;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * watch --kafka: the capture's stream also goes to a Kafka topic. Kafka's classes are loaded only when the
 * option is given (this class names none of them), which keeps them off every other start-up.
 */
final class KafkaOptions {
    @Option(names = "--kafka", paramLabel = "BOOTSTRAP",
            description = "Also send every record of the stream to Kafka (host:port[,host:port...]); see docs/kafka.md.")
    String bootstrap;

    @Option(names = "--kafka-topic", paramLabel = "TOPIC", description = "The topic for --kafka (default: forktrace).")
    String topic = "forktrace";

    @Option(names = "--kafka-property", paramLabel = "KEY=VALUE",
            description = "A Kafka producer setting for --kafka, e.g. security.protocol=SSL or delivery.timeout.ms=30000 (repeatable).")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(names = "--host-name", paramLabel = "NAME",
            description = "The host name written in the stream header and used as the Kafka key (default: the kernel's hostname).")
    String hostName;

    boolean enabled() {
        return bootstrap != null;
    }

    private java.util.function.LongSupplier undeliverable;

    /** The Kafka sink; only called with --kafka. */
    FailureSink open(PrintStream log) {
        if (topic.isBlank()) {
            throw new IllegalArgumentException("--kafka-topic must not be empty");
        }
        var sink = new dev.forktrace.kafka.KafkaSink(bootstrap, topic, properties, log);
        undeliverable = sink::undeliverable;
        return sink;
    }

    /** With --kafka, every sink's Stats say how many records the Kafka sink lost (Stats.undeliverable). */
    void countUndeliverable(Capture capture) {
        if (undeliverable != null) {
            capture.countUndeliverable(undeliverable);
        }
    }
}
