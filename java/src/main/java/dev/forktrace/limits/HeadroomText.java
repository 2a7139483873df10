package dev.forktrace.limits;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.forktrace.proto.v1.Headroom;
import dev.forktrace.proto.v1.Offender;
import dev.forktrace.proto.v1.ScopeKind;
import dev.forktrace.system.HolderGroups;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/** Headroom records from scopes, and their words: the sentence, the table row, the JSON. */
public final class HeadroomText {
    private static final JsonFormat.Printer JSON = JsonFormat.printer().omittingInsignificantWhitespace();

    private HeadroomText() {}

    public static Headroom record(LimitScope s, List<Offender> holders, Trends.Trend trend, double threshold,
                                  Headroom.State state, Instant time) {
        Headroom.Builder h = Headroom.newBuilder()
                .setTime(Timestamp.newBuilder().setSeconds(time.getEpochSecond()).setNanos(time.getNano()))
                .setState(state).setKind(s.kind()).setName(s.name()).setLimitName(s.limitName())
                .setUsed(s.used()).setLimit(s.limit()).setRatio(s.ratio()).setThreshold(threshold)
                .setGrowthPerMinute(trend.perMinute()).setSecondsToExhaustion(trend.secondsToExhaustion())
                .addAllHolders(holders).setHolderRanking(s.holderRanking())
                .setLowestLimitPid(s.lowestLimitPid()).setLowestLimitComm(s.lowestLimitComm())
                .setPeak(Math.max(0, s.peak()));
        return h.setMessage(sentence(h)).build();
    }

    /** "pids cgroup /a is at 95% of pids.max (19 of 20 tasks); 'holder' (pid 12) holds 16 tasks." */
    public static String sentence(dev.forktrace.proto.v1.HeadroomOrBuilder h) {
        boolean memory = h.getHolderRanking().equals("memory");
        StringBuilder b = new StringBuilder();
        if (h.getState() == Headroom.State.CROSSED) {
            b.append("headroom warning: ");
        } else if (h.getState() == Headroom.State.RECOVERED) {
            b.append("headroom recovered: ");
        }
        b.append(kindWords(h.getKind(), h.getLimitName())).append(' ').append(h.getName());
        if (h.getLimitName().equals("init")) {
            b.append(" has no init (pid 1 exited): every fork in it fails with ENOMEM");
        } else {
            b.append(" is at ").append(percent(h.getRatio())).append(" of ").append(h.getLimitName()).append(" (")
                    .append(amount(h.getUsed(), memory)).append(" of ").append(amount(h.getLimit(), memory))
                    .append(memory ? ")" : " tasks)");
        }
        if (h.getState() == Headroom.State.CROSSED) {
            b.append(", at or above the ").append(percent(h.getThreshold())).append(" warning threshold");
        } else if (h.getState() == Headroom.State.RECOVERED) {
            b.append(", below the threshold again");
        }
        if (h.getLowestLimitPid() != 0) {
            b.append("; lowest limit: '").append(h.getLowestLimitComm()).append("' (pid ").append(h.getLowestLimitPid())
                    .append(")");
        }
        if (h.getHoldersCount() > 0) {
            b.append("; ").append(h.getHoldersList().stream().limit(3).map(o -> HolderGroups.describe(o, memory))
                    .collect(Collectors.joining(", ")));
        }
        String trend = trend(h.getGrowthPerMinute(), h.getSecondsToExhaustion(), memory);
        if (!trend.isEmpty()) {
            b.append("; ").append(trend);
        }
        return b.append('.').toString();
    }

    static String kindWords(ScopeKind kind, String limitName) {
        return switch (kind) {
            case CGROUP -> "pids cgroup";
            case USER -> "user";
            case PID_NAMESPACE -> "pid namespace";
            case MEMCG -> "memory cgroup";
            default -> "system limit";
        };
    }

    public static String percent(double ratio) {
        return String.format("%.1f%%", ratio * 100);
    }

    public static String amount(long value, boolean memory) {
        return memory ? (value >> 20) + " MiB" : String.format("%,d", value);
    }

    /** "growing 3.0/min, full in 20 s", "" when flat or unknown. */
    public static String trend(double perMinute, double seconds, boolean memory) {
        if (Math.abs(perMinute) < 1e-9) {
            return "";
        }
        String rate = memory ? String.format("%+.1f MiB/min", perMinute / (1 << 20)) : String.format("%+.1f/min", perMinute);
        return (perMinute > 0 ? "growing " : "shrinking ") + rate + (seconds > 0 ? ", full in " + duration(seconds) : "");
    }

    public static String duration(double seconds) {
        if (seconds < 120) {
            return String.format("%.0f s", seconds);
        }
        if (seconds < 7200) {
            return String.format("%.0f min", seconds / 60);
        }
        if (seconds < 172800) {
            return String.format("%.1f h", seconds / 3600);
        }
        return String.format("%.0f days", seconds / 86400);
    }

    /** Encodes one complete warning as the sinks do, so their first real one does not pay for loading the encoders. */
    static void warmUp() {
        Headroom sample = record(new LimitScope("warm-up", ScopeKind.CGROUP, "/warm-up", "pids.max", 19, 20, 19, null, List.of(), false, 0, ""),
                List.of(Offender.newBuilder().setPid(1).setComm("warm-up").setTasks(19).build()),
                new Trends.Trend(1, 60, 2), 0.9, Headroom.State.CROSSED, Instant.EPOCH);
        json(sample);
        sentence(sample);
    }

    public static String json(Headroom h) {
        try {
            return JSON.print(h);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e); // a message built here always prints
        }
    }
}
