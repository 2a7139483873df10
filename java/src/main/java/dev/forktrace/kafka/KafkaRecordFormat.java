package dev.forktrace.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * How forktrace lays its stream out on a Kafka topic (docs/kafka.md is the reader's contract):
 * key = the host name (UTF-8), so one host's records stay on one partition, in order;
 * value = one serialized StreamRecord (not length-delimited: Kafka frames it);
 * record headers, all UTF-8 text so any client can read them without protobuf:
 * host, boot id, capture id, and the record's sequence in its capture (0 = its StreamHeader, no gaps
 * unless records were lost on the way).
 */
public final class KafkaRecordFormat {
    public static final String HOST = "forktrace.host";
    public static final String BOOT_ID = "forktrace.boot_id";
    public static final String CAPTURE_ID = "forktrace.capture_id";
    public static final String SEQUENCE = "forktrace.seq";

    private KafkaRecordFormat() {}

    static byte[] text(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** A header's text, or "" when the record has none of that name. */
    static String header(Headers headers, String name) {
        Header h = headers.lastHeader(name);
        return h == null || h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
    }
}
