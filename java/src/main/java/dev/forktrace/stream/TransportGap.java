package dev.forktrace.stream;

/**
 * What a transport (a Kafka topic) lost or repeated of one capture, found from the per-capture record sequence:
 * records whose sequence numbers never arrived, records that arrived twice (skipped), and whether the
 * capture's StreamHeader was outside what was read (a from= time, or the topic's retention).
 */
public record TransportGap(String host, String captureId, long missingRecords, long duplicateRecords,
                           boolean headerMissing) {}
