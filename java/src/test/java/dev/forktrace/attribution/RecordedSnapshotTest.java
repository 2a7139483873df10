package dev.forktrace.attribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.util.JsonFormat;
import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Events captured from real failures (this host's examples, and the 6.1 guest of the kernel lab) are
 * attributed again from their recorded kernel snapshot: replay must reach the verdict the live run did.
 */
class RecordedSnapshotTest {
    static List<Path> recorded() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("java/src/test/resources/recorded"))) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @ParameterizedTest
    @MethodSource("recorded")
    void replayReachesTheLiveVerdict(Path file) throws IOException {
        ForkFailure.Builder live = ForkFailure.newBuilder();
        JsonFormat.parser().merge(Files.readString(file), live);
        SnapshotFacts facts = new SnapshotFacts(live.build());
        Attribution replay = new Attribution();
        new Attributor().attribute(facts, facts.system(), replay);
        assertEquals(live.getCause(), replay.cause, file + ": cause");
        assertEquals(live.getConfidence(), replay.confidence, file + ": confidence");
        assertEquals(live.getScope().getKind(), replay.scopeKind, file + ": scope kind");
        assertEquals(live.getScope().getLimit(), replay.limit, file + ": limit");
        assertEquals(live.getScope().getCurrent(), replay.current, file + ": current");
        assertFalse(live.getMessage().isEmpty(), file + ": message");
    }
}
