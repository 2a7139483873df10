package dev.forktrace.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Consumer of a BPF_MAP_TYPE_RINGBUF, implemented on the mapped memory (the protocol of the kernel's
 * kernel/bpf/ringbuf.c, as libbpf's src/ringbuf.c consumes it), so no Java upcall runs per record.
 *
 * <pre>
 * fd offset 0          : consumer page  (RW)  u64 consumer_pos at 0
 * fd offset page_size  : producer page  (RO)  u64 producer_pos at 0
 * fd offset 2*page_size: data, size bytes, mapped twice in a row so a record that wraps is contiguous
 * record               : u32 len | BUSY (1<<31) | DISCARD (1<<30), u32 pad, then len bytes; 8-byte aligned
 * </pre>
 *
 * The kernel wakes the epoll waiter only when the consumer has caught up, so {@link #drain} always
 * consumes everything available.
 */
public final class RingBuffer implements AutoCloseable {
    /**
     * Receives each record as (ring data, offset, length) so that no view object is made per record;
     * the bytes are valid only during the call.
     */
    @FunctionalInterface
    public interface RecordHandler {
        void onRecord(MemorySegment ring, long offset, int length);
    }

    private static final int BUSY_BIT = 1 << 31;
    private static final int DISCARD_BIT = 1 << 30;
    private static final int HEADER_SIZE = 8;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment consumerPage;
    private final MemorySegment producerAndData;
    private final MemorySegment data;
    private final long mask;
    private final int epollFd;
    private final Arena arena;
    private final Libc.EpollScratch scratch;

    /** Maps the ring of a BPF_MAP_TYPE_RINGBUF fd and registers it with a new epoll instance. */
    public RingBuffer(int mapFd, long size) {
        this(mapRing(mapFd, size, Libc.pageSize()), Libc.pageSize(), size, Libc.epollCreate());
        Libc.epollAdd(epollFd, mapFd);
    }

    /**
     * Over given memory: consumer page, then producer page followed by the data (twice the size, as the
     * kernel maps it). Tests use it to drive the protocol without a kernel; epollFd -1 means no waiting.
     */
    RingBuffer(MemorySegment[] consumerAndProducer, long page, long size, int epollFd) {
        if (Long.bitCount(size) != 1) {
            throw new IllegalArgumentException("ring buffer size " + size + " is not a power of two");
        }
        this.consumerPage = consumerAndProducer[0];
        this.producerAndData = consumerAndProducer[1];
        this.data = producerAndData.asSlice(page, 2 * size);
        this.mask = size - 1;
        this.epollFd = epollFd;
        this.arena = Arena.ofShared(); // made on the attaching thread, used by the consumer thread
        this.scratch = new Libc.EpollScratch(arena);
    }

    private static MemorySegment[] mapRing(int mapFd, long size, long page) {
        MemorySegment consumer = Libc.mmap(page, Libc.PROT_READ | Libc.PROT_WRITE, mapFd, 0);
        MemorySegment producer = Libc.mmap(page + 2 * size, Libc.PROT_READ, mapFd, page);
        return new MemorySegment[] {consumer, producer};
    }

    /** Blocks up to timeoutMillis for data; true if data may be available. */
    public boolean await(int timeoutMillis) {
        if (epollFd < 0) {
            return available() > 0;
        }
        return Libc.epollWait(epollFd, scratch, timeoutMillis) > 0 || available() > 0;
    }

    /** Bytes produced but not consumed. */
    public long available() {
        return (long) LONG.getAcquire(producerAndData, 0L) - (long) LONG.getAcquire(consumerPage, 0L);
    }

    /** Hands every committed record to the handler, in order; returns how many it handed over. */
    public int drain(RecordHandler handler) {
        int records = 0;
        long consumer = (long) LONG.getAcquire(consumerPage, 0L);
        long producer = (long) LONG.getAcquire(producerAndData, 0L);
        while (consumer < producer) {
            long headerOffset = consumer & mask;
            int header = (int) INT.getAcquire(data, headerOffset);
            if ((header & BUSY_BIT) != 0) {
                break; // reserved but not yet committed: stop here, it is next in order
            }
            int length = header & ~(BUSY_BIT | DISCARD_BIT);
            if ((header & DISCARD_BIT) == 0) {
                handler.onRecord(data, headerOffset + HEADER_SIZE, length);
                records++;
            }
            consumer += (length + HEADER_SIZE + 7) & ~7L;
            // Release each record at once so the kernel can reuse its space while we work.
            LONG.setRelease(consumerPage, 0L, consumer);
            if (consumer >= producer) {
                producer = (long) LONG.getAcquire(producerAndData, 0L);
            }
        }
        return records;
    }

    @Override
    public void close() {
        if (epollFd >= 0) { // mapped by us
            Libc.close(epollFd);
            Libc.munmap(producerAndData);
            Libc.munmap(consumerPage);
        }
        arena.close();
    }
}
