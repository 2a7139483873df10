package dev.forktrace.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** kafka:// addresses; reading a real topic is tests/integration/75-kafka.sh. */
class KafkaSourceTest {
    @Test
    void bootstrapListTopicAndTimes() {
        KafkaSource.Location l = KafkaSource.parse(
                "kafka://a:9092,b:9093/fleet.forks?from=2026-12-01T19:00:00Z&to=1797000000000");
        assertEquals("a:9092,b:9093", l.bootstrap());
        assertEquals("fleet.forks", l.topic());
        assertEquals(Instant.parse("2026-12-01T19:00:00Z").toEpochMilli(), l.fromMillis());
        assertEquals(1797000000000L, l.toMillis());
    }

    @Test
    void withoutTimesReadsEverything() {
        KafkaSource.Location l = KafkaSource.parse("kafka://127.0.0.1:19171/t");
        assertNull(l.fromMillis());
        assertNull(l.toMillis());
    }

    @Test
    void encodedTimesAreDecoded() {
        assertEquals(Instant.parse("2026-12-01T19:00:00Z").toEpochMilli(),
                KafkaSource.parse("kafka://h:1/t?from=2026-12-01T19%3A00%3A00Z").fromMillis());
    }

    @Test
    void badAddressesSayWhatIsExpected() {
        for (String bad : new String[] {"kafka://", "kafka://host:1", "kafka://host:1/", "kafka:///topic",
                "kafka://h:1/t?from=yesterday", "kafka://h:1/t?since=1", "kafka://h:1/a/b",
                "kafka://h:1/t?from=2000&to=1000"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KafkaSource.parse(bad), bad);
            assertTrue(e.getMessage().startsWith(bad + ":"), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KafkaSource.parse("kafka://h:1/t?from=x"))
                .getMessage().contains("kafka://HOST:PORT/TOPIC"));
    }
}
