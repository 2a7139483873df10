package dev.forktrace.kafka;

import dev.forktrace.output.FailureSink;
import dev.forktrace.proto.v1.ForkFailure;
import dev.forktrace.proto.v1.Stats;
import dev.forktrace.proto.v1.StreamHeader;
import dev.forktrace.proto.v1.StreamRecord;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends the capture's StreamRecords to a Kafka topic (layout: {@link KafkaRecordFormat}).
 *
 * <p>The ring consumer only offers records to a bounded queue; a sender thread hands them to the producer.
 * KafkaProducer.send can block (on metadata, or on a full buffer.memory) and with max.block.ms = 0 it refuses
 * the first records of a capture, sent before the topic's metadata arrived; the queue keeps both problems off
 * the consumer. Delivery survives a broker restart through acks=all and idempotent retries within
 * delivery.timeout.ms. A record that cannot be queued, sent or acknowledged is counted (undeliverable), logged
 * once, carried in the following Stats records and printed in the summary; its sequence number stays unused,
 * so a reader sees the gap too.
 */
public final class KafkaSink implements FailureSink {
    static final int QUEUE_RECORDS = 16_384;
    static final long BUFFER_BYTES = 16L << 20;
    static final int DELIVERY_TIMEOUT_MS = 120_000;
    private static final Outgoing END = new Outgoing(-1, null);

    private record Outgoing(long sequence, StreamRecord record) {}

    private final Producer<byte[], byte[]> producer;
    private final String bootstrap;
    private final String topic;
    private final PrintStream log;
    private final BlockingQueue<Outgoing> queue = new ArrayBlockingQueue<>(QUEUE_RECORDS);
    private final AtomicLong notQueued = new AtomicLong();
    private final AtomicLong notAcknowledged = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicBoolean warned = new AtomicBoolean();
    private final Thread sender;
    private final long closeTimeoutMillis;
    private StreamHeader header;
    private byte[] key;
    private long nextSequence;

    /**
     * @param properties extra producer settings (--kafka-property), applied last: security, compression,
     *                   or a shorter delivery.timeout.ms
     */
    public KafkaSink(String bootstrap, String topic, Map<String, String> properties, PrintStream log) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.log = log;
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5"); // the most idempotence keeps in order
        config.put(ProducerConfig.RETRIES_CONFIG, Integer.toString(Integer.MAX_VALUE)); // bounded by the timeout
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.toString(DELIVERY_TIMEOUT_MS));
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(BUFFER_BYTES));
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000"); // the sender thread's wait, never the ring's
        config.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        config.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "forktrace");
        config.putAll(properties);
        this.closeTimeoutMillis = Long.parseLong(config.getProperty(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)) + 5_000;
        // KafkaProducer finds its serializers through the context class loader; forktrace's own loader has them.
        this.producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        this.sender = Thread.ofPlatform().daemon().name("forktrace-kafka-sender").unstarted(this::sendLoop);
    }

    @Override
    public void start(StreamHeader given) {
        if (header != null) {
            throw new IllegalStateException("start() was already called");
        }
        header = dev.forktrace.stream.StreamWriter.completeHeader(given);
        key = KafkaRecordFormat.text(header.getHostName());
        sender.start();
        offer(StreamRecord.newBuilder().setHeader(header).build());
    }

    @Override
    public void accept(ForkFailure failure) {
        offer(StreamRecord.newBuilder().setFailure(failure).build());
    }

    @Override
    public void headroom(dev.forktrace.proto.v1.Headroom headroom) {
        // the fleet's stream carries the warnings too, as the .pb file does: report reads them from either
        offer(StreamRecord.newBuilder().setHeadroom(headroom).build());
    }

    @Override
    public void stats(Stats stats) {
        offer(StreamRecord.newBuilder().setStats(stats.toBuilder().setUndeliverable(undeliverable())).build());
    }

    /** Never blocks: a full queue costs the record, which is counted. */
    private void offer(StreamRecord record) {
        if (header == null) {
            start(StreamHeader.getDefaultInstance());
        }
        long sequence = nextSequence++;
        if (!queue.offer(new Outgoing(sequence, record))) {
            notQueued.incrementAndGet();
            warnOnce("its queue of " + QUEUE_RECORDS + " records is full (the producer is not keeping up)");
        }
    }

    private void sendLoop() {
        RecordHeaders common = new RecordHeaders();
        common.add(KafkaRecordFormat.HOST, KafkaRecordFormat.text(header.getHostName()));
        common.add(KafkaRecordFormat.BOOT_ID, KafkaRecordFormat.text(header.getBootId()));
        common.add(KafkaRecordFormat.CAPTURE_ID, KafkaRecordFormat.text(header.getCaptureId()));
        while (true) {
            Outgoing next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (next == END) {
                return;
            }
            RecordHeaders headers = new RecordHeaders(common.toArray());
            headers.add(KafkaRecordFormat.SEQUENCE, KafkaRecordFormat.text(Long.toString(next.sequence())));
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, null, key,
                    next.record().toByteArray(), headers);
            try {
                producer.send(record, (metadata, error) -> {
                    if (error == null) {
                        acknowledged.incrementAndGet();
                    } else {
                        notAcknowledged.incrementAndGet();
                        warnOnce(describe(error) + " (first: record " + next.sequence() + ")");
                    }
                });
            } catch (KafkaException | IllegalStateException e) {
                notAcknowledged.incrementAndGet();
                warnOnce(describe(e));
            }
        }
    }

    private void warnOnce(String reason) {
        if (warned.compareAndSet(false, true)) {
            log.println("forktrace: kafka: records for topic " + topic + " at " + bootstrap
                    + " cannot be delivered: " + reason + "; counting them (Stats.undeliverable, the summary)");
        }
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /** Records lost to this sink so far: not queued plus not acknowledged. */
    public long undeliverable() {
        return notQueued.get() + notAcknowledged.get();
    }

    public long acknowledged() {
        return acknowledged.get();
    }

    /** Records handed to this sink (each got a sequence number). */
    public long records() {
        return nextSequence;
    }

    /** Delivers what is queued, waiting at most the delivery timeout, then prints the sink's tally. */
    @Override
    public void close() throws IOException {
        if (header != null) {
            try {
                queue.put(END);
                sender.join(closeTimeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // Records still unacknowledged after the timeout fail their callbacks here, which counts them.
        producer.close(Duration.ofMillis(closeTimeoutMillis));
        long lostInQueue = queue.stream().filter(o -> o != END).count();
        notQueued.addAndGet(lostInQueue);
        log.println(summary());
    }

    public String summary() {
        return "forktrace: kafka " + bootstrap + " topic " + topic + ": " + records() + " records, "
                + acknowledged() + " acknowledged, " + undeliverable() + " undeliverable ("
                + notQueued.get() + " not queued, " + notAcknowledged.get() + " not acknowledged)";
    }
}
