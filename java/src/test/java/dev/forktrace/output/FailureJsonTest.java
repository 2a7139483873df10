package dev.forktrace.output;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.forktrace.proto.v1.ForkFailure;
import java.io.IOException;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** FailureJson must print exactly what protobuf's own JsonFormat prints, for every field of the schema. */
class FailureJsonTest {

    private static String fast(ForkFailure f) throws IOException {
        StringWriter out = new StringWriter();
        new FailureJson(out).write(f);
        return out.toString();
    }

    private static String reference(ForkFailure f) throws IOException {
        return JsonFormat.printer().omittingInsignificantWhitespace().print(f);
    }

    @Test
    void everyFieldOfTheSchemaIsWrittenAsJsonFormatWritesIt() throws IOException {
        // Filled through the descriptors, so a field added to the .proto but not to FailureJson fails here.
        ForkFailure full = (ForkFailure) fill(ForkFailure.newBuilder(), 1).build();
        assertEquals(reference(full), fast(full));
    }

    @Test
    void defaultsAreLeftOutAsInProto3() throws IOException {
        ForkFailure empty = ForkFailure.getDefaultInstance();
        assertEquals("{}", fast(empty));
        ForkFailure zeroTime = ForkFailure.newBuilder().setTime(Timestamp.getDefaultInstance()).build();
        assertEquals(reference(zeroTime), fast(zeroTime));
    }

    @Test
    void timestampsAsRfc3339WithTheFractionProtobufChooses() throws IOException {
        long[][] cases = {{0, 0}, {1_700_000_040, 0}, {1_700_000_000, 5}, {1_700_000_001, 120_000},
            {253_402_300_799L, 999_999_999}, {-62_135_596_800L, 1_000_000}, {951_782_400, 10}};
        StringWriter out = new StringWriter();
        FailureJson json = new FailureJson(out);
        StringBuilder expected = new StringBuilder();
        for (long[] c : cases) {
            ForkFailure f = ForkFailure.newBuilder()
                    .setTime(Timestamp.newBuilder().setSeconds(c[0]).setNanos((int) c[1])).build();
            json.write(f);
            expected.append(reference(f));
        }
        assertEquals(expected.toString(), out.toString());
    }

    @Test
    void enumNumbersFromANewerSchemaArePrintedAsNumbers() throws IOException {
        ForkFailure f = ForkFailure.newBuilder().setCauseValue(99).setSyscallValue(42).build();
        assertEquals(reference(f), fast(f));
    }

    @Test
    void consecutiveEventsShareOneWriter() throws IOException {
        ForkFailure a = ForkFailure.newBuilder().setPid(1).setComm("a").build();
        ForkFailure b = ForkFailure.newBuilder().setPid(2).setComm("b\u0000\"").build();
        StringWriter out = new StringWriter();
        FailureJson json = new FailureJson(out);
        json.write(a);
        out.write('\n');
        json.write(b);
        assertEquals(reference(a) + "\n" + reference(b), out.toString());
    }

    /** Sets every field to a value that is not the default and stresses the encoding (sign, escaping). */
    private static Message.Builder fill(Message.Builder b, int seed) {
        for (FieldDescriptor field : b.getDescriptorForType().getFields()) {
            int copies = field.isRepeated() ? 2 : 1;
            for (int i = 0; i < copies; i++) {
                Object value = switch (field.getJavaType()) {
                    case INT -> field.getType() == FieldDescriptor.Type.UINT32 ? 0xFFFF_FFF0 + seed + i : -7 - seed - i;
                    case LONG -> field.getType() == FieldDescriptor.Type.UINT64 ? -3L - seed - i : -5_000_000_000L - seed - i;
                    case BOOLEAN -> true;
                    case STRING -> "a<b>&'\"=é\n\t\u2028 " + field.getName() + i;
                    case ENUM -> field.getEnumType().getValues().get(field.getEnumType().getValues().size() - 1);
                    case MESSAGE -> field.getMessageType().getFullName().equals(Timestamp.getDescriptor().getFullName())
                            ? Timestamp.newBuilder().setSeconds(1_700_000_000L + seed).setNanos(123_000_000).build()
                            : fill(b.newBuilderForField(field), seed + i + 1).build();
                    default -> throw new AssertionError("no test value for " + field.getFullName());
                };
                if (field.isRepeated()) {
                    b.addRepeatedField(field, value);
                } else {
                    b.setField(field, value);
                }
            }
        }
        return b;
    }
}
