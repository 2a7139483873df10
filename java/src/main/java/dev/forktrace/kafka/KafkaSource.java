package dev.forktrace.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.forktrace.proto.v1.SchemaVersion;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import dev.forktrace.stream.StreamReader;
import dev.forktrace.stream.TransportGap;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A Kafka topic read as one forktrace stream: {@code kafka://BOOTSTRAP/TOPIC[?from=TIME&to=TIME]}.
 *
 * <p>A consumer without a group (nothing is committed, nothing changes on the broker) reads each partition in
 * turn, from the beginning or from the first record at {@code from}, up to the end offsets seen at start, and
 * keeps records whose timestamp is at most {@code to}. The records become the bytes of a stream file
 * (length-delimited StreamRecords), so every reader of files reads topics. Records of several captures share
 * a partition, interleaved: before a record of another capture than the one before it, that capture's header
 * is repeated (or made from the record's Kafka headers when the header was not read), so every failure and
 * Stats follows its own capture's header. The per-capture sequence numbers find what is missing or repeated
 * ({@link #gaps()}); repeats are skipped.
 */
public final class KafkaSource extends InputStream implements StreamReader.Transport {
    static final Duration METADATA_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration POLL = Duration.ofMillis(500);

    /** A parsed kafka:// address; from/to are epoch milliseconds or null. */
    record Location(String bootstrap, String topic, Long fromMillis, Long toMillis) {}

    private static final class CaptureState {
        final String host;
        final String captureId;
        StreamHeader header;
        boolean seen;
        long expected;
        long missing;
        long duplicates;
        boolean headerMissing;

        CaptureState(String host, String captureId) {
            this.host = host;
            this.captureId = captureId;
        }
    }

    private final Location location;
    private final String source;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Deque<TopicPartition> partitions = new ArrayDeque<>();
    private final Map<TopicPartition, Long> endOffsets;
    private final Map<TopicPartition, Long> startOffsets = new HashMap<>();
    private final Map<String, CaptureState> captures = new LinkedHashMap<>();
    private final List<String> warnings = new ArrayList<>();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private byte[] chunk = new byte[0];
    private int chunkPosition;
    private String currentCapture;
    private long foreign;
    private boolean done;
    private long lastPosition = -1;
    private long lastProgressNanos = System.nanoTime();

    /** Opens the topic (its metadata and end offsets are read now: a bad address fails here). */
    public static StreamReader open(String url) throws IOException {
        Location location;
        try {
            location = parse(url);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        KafkaSource source = new KafkaSource(location, url);
        return new StreamReader(source, url, source);
    }

    /** kafka://host:port[,host:port]/topic[?from=TIME&to=TIME], TIME an ISO-8601 instant or epoch milliseconds. */
    static Location parse(String url) {
        String usage = " (expected kafka://HOST:PORT/TOPIC[?from=TIME&to=TIME], TIME like 2026-12-01T19:00:00Z)";
        if (!url.startsWith("kafka://")) {
            throw new IllegalArgumentException(url + ": not a kafka:// address" + usage);
        }
        String rest = url.substring("kafka://".length());
        int slash = rest.indexOf('/');
        if (slash <= 0 || slash == rest.length() - 1) {
            throw new IllegalArgumentException(url + ": needs a bootstrap address and a topic" + usage);
        }
        String bootstrap = rest.substring(0, slash);
        String topicAndQuery = rest.substring(slash + 1);
        int question = topicAndQuery.indexOf('?');
        String topic = question < 0 ? topicAndQuery : topicAndQuery.substring(0, question);
        if (topic.isEmpty() || topic.contains("/")) {
            throw new IllegalArgumentException(url + ": \"" + topic + "\" is not a topic name" + usage);
        }
        Long from = null;
        Long to = null;
        if (question >= 0) {
            for (String pair : topicAndQuery.substring(question + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                switch (name) {
                    case "from" -> from = time(url, name, value, usage);
                    case "to" -> to = time(url, name, value, usage);
                    default -> throw new IllegalArgumentException(url + ": unknown parameter \"" + name + "\"" + usage);
                }
            }
        }
        if (from != null && to != null && from > to) {
            throw new IllegalArgumentException(url + ": from is after to");
        }
        return new Location(bootstrap, topic, from, to);
    }

    private static long time(String url, String name, String value, String usage) {
        if (value.matches("[0-9]+")) {
            return Long.parseLong(value);
        }
        try {
            return Instant.parse(value).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(url + ": " + name + "=" + value + " is not a time" + usage);
        }
    }

    private KafkaSource(Location location, String source) throws IOException {
        this.location = location;
        this.source = source;
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, location.bootstrap());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"); // no group: the broker keeps no trace of us
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "forktrace-reader");
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(METADATA_TIMEOUT.toMillis()));
        try {
            consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        } catch (KafkaException e) {
            throw new IOException(source + ": " + message(e), e);
        }
        try {
            List<PartitionInfo> infos = consumer.partitionsFor(location.topic(), METADATA_TIMEOUT);
            if (infos == null || infos.isEmpty()) {
                throw new IOException(source + ": no topic " + location.topic() + " at " + location.bootstrap());
            }
            infos.stream().map(p -> new TopicPartition(p.topic(), p.partition()))
                    .sorted(Comparator.comparingInt(TopicPartition::partition)).forEach(partitions::add);
            endOffsets = consumer.endOffsets(partitions, METADATA_TIMEOUT);
            if (location.fromMillis() == null) {
                startOffsets.putAll(consumer.beginningOffsets(partitions, METADATA_TIMEOUT));
            } else {
                Map<TopicPartition, Long> times = new HashMap<>();
                partitions.forEach(p -> times.put(p, location.fromMillis()));
                Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(times, METADATA_TIMEOUT);
                partitions.forEach(p -> {
                    OffsetAndTimestamp at = found.get(p);
                    startOffsets.put(p, at == null ? endOffsets.get(p) : at.offset());
                });
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            consumer.close();
            throw new IOException(source + ": no answer from Kafka at " + location.bootstrap() + " within "
                    + METADATA_TIMEOUT.toSeconds() + " s", e);
        } catch (KafkaException e) {
            consumer.close();
            throw new IOException(source + ": " + message(e), e);
        } catch (IOException e) {
            consumer.close();
            throw e;
        }
        if (!partitions.isEmpty()) {
            assignNext();
        }
    }

    private static String message(Exception e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** Moves to the next partition with records in range; false when none is left. */
    private boolean assignNext() {
        while (!partitions.isEmpty()) {
            TopicPartition p = partitions.peekFirst();
            if (startOffsets.get(p) < endOffsets.get(p)) {
                consumer.assign(List.of(p));
                consumer.seek(p, startOffsets.get(p));
                return true;
            }
            partitions.removeFirst();
        }
        consumer.assign(List.of());
        return false;
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        return chunk[chunkPosition++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, chunk.length - chunkPosition);
        System.arraycopy(chunk, chunkPosition, b, off, n);
        chunkPosition += n;
        return n;
    }

    /** True when bytes are available in chunk; polls Kafka for more as needed. */
    private boolean fill() throws IOException {
        while (chunkPosition >= chunk.length) {
            if (done) {
                return false;
            }
            pollOnce();
            chunk = pending.toByteArray();
            chunkPosition = 0;
            pending.reset();
        }
        return true;
    }

    private void pollOnce() throws IOException {
        if (partitions.isEmpty()) {
            finish();
            return;
        }
        TopicPartition p = partitions.peekFirst();
        long end = endOffsets.get(p);
        try {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL).records(p)) {
                if (r.offset() >= end) {
                    break; // written after we started: the next report reads it
                }
                take(r);
            }
            long position = consumer.position(p, METADATA_TIMEOUT);
            if (position >= end) {
                partitions.removeFirst();
                assignNext();
            }
            if (position != lastPosition) {
                lastPosition = position;
                lastProgressNanos = System.nanoTime();
            } else if (System.nanoTime() - lastProgressNanos > METADATA_TIMEOUT.toNanos() * 2) {
                // The broker went away while reading: say where, rather than poll forever.
                finish();
                throw new IOException(source + ": no progress reading partition " + p.partition() + " at offset "
                        + position + " of " + end + " for " + METADATA_TIMEOUT.toSeconds() * 2 + " s");
            }
        } catch (KafkaException e) {
            finish();
            throw new IOException(source + ": reading partition " + p.partition() + " failed: " + message(e), e);
        }
    }

    private void finish() {
        done = true;
        consumer.close(Duration.ofSeconds(5));
    }

    private void take(ConsumerRecord<byte[], byte[]> r) throws IOException {
        if (location.toMillis() != null && r.timestamp() > location.toMillis()) {
            return;
        }
        StreamRecord record;
        try {
            record = r.value() == null ? null : StreamRecord.parseFrom(r.value());
        } catch (InvalidProtocolBufferException e) {
            record = null;
        }
        String sequenceText = KafkaRecordFormat.header(r.headers(), KafkaRecordFormat.SEQUENCE);
        if (record == null || record.getRecordCase() == StreamRecord.RecordCase.RECORD_NOT_SET
                || !sequenceText.matches("[0-9]+")) {
            foreign++; // another producer's record on the topic
            return;
        }
        String host = KafkaRecordFormat.header(r.headers(), KafkaRecordFormat.HOST);
        String captureId = KafkaRecordFormat.header(r.headers(), KafkaRecordFormat.CAPTURE_ID);
        String bootId = KafkaRecordFormat.header(r.headers(), KafkaRecordFormat.BOOT_ID);
        long sequence = Long.parseLong(sequenceText);
        String key = host + '\0' + captureId;
        CaptureState capture = captures.computeIfAbsent(key, k -> new CaptureState(host, captureId));
        if (capture.seen && sequence < capture.expected) {
            capture.duplicates++;
            return;
        }
        // Before the first record seen, a gap counts only when reading from the beginning: from= starts mid-capture.
        if (capture.seen || location.fromMillis() == null) {
            capture.missing += sequence - capture.expected;
        }
        capture.seen = true;
        capture.expected = sequence + 1;
        if (record.hasHeader()) {
            capture.header = record.getHeader();
        } else if (!key.equals(currentCapture)) {
            if (capture.header == null) {
                capture.headerMissing = true;
                capture.header = StreamHeader.newBuilder()
                        .setSchemaVersion(SchemaVersion.SCHEMA_VERSION_CURRENT_VALUE)
                        .setHostName(host).setBootId(bootId).setCaptureId(captureId).build();
            }
            StreamRecord.newBuilder().setHeader(capture.header).build().writeDelimitedTo(pending);
        }
        currentCapture = key;
        record.writeDelimitedTo(pending);
    }

    @Override
    public List<TransportGap> gaps() {
        return captures.values().stream()
                .map(c -> new TransportGap(c.host, c.captureId, c.missing, c.duplicates, c.headerMissing)).toList();
    }

    @Override
    public List<String> warnings() {
        List<String> all = new ArrayList<>(warnings);
        if (foreign > 0) {
            all.add(source + ": skipped " + foreign + " record(s) that are not forktrace records");
        }
        return all;
    }

    @Override
    public void close() {
        if (!done) {
            finish();
        }
    }
}
