/*
 * NAR hashes of store items for the verifier, two items at a time on one thread.
 *
 * A walker serialises one item as a NAR (the format of nar/NarWriter: entries in unsigned byte order of
 * their names, executable iff the owner-x bit is set, symlinks not followed) into its own buffer, and
 * run() hashes two walkers' buffers with SHA-256 at once. The SHA extensions of x86-64 (SHA-NI) have a
 * latency several times their throughput, so one stream leaves the unit idle most of the time: two
 * independent streams, interleaved instruction by instruction, hash 1.75 GB/s per core on the Xeon the
 * benchmark runs on, against 1.45 GB/s for OpenSSL's one stream (the interleaving Linux uses for
 * dm-verity since 6.11).
 *
 * Files of MAP_MIN bytes or more are not read into the buffer but hashed from windows of a mapping (see
 * MAP_MIN); run() catches the SIGBUS of a mapped page that cannot be read.
 *
 * Only the common case is handled here: a tree of regular files, directories and symlinks that can be
 * read. Anything else (an error from any system call, another kind of file, a file whose size changes,
 * a symlink target longer than PATH_MAX) stops the walker with a reason, and the Java side checks that
 * item again with NarDumper, which names the file and says what is wrong. The walker also notes whether
 * every entry has canonical metadata (modes 0444 or 0555, mtime 1), so that the Java side walks the item
 * again only when something is off.
 *
 * Only built for x86-64; load() answers false on a CPU without the SHA extensions, and the verifier then
 * hashes in Java.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jni.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14; older C libraries lack the name */
#endif

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHA_NI 1
#endif

/* ------------------------------------------------------------------------------------------ SHA-256 */

static const uint32_t ROUND_CONSTANTS[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static const uint32_t INITIAL_STATE[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

typedef struct {
    uint32_t state[8];
    uint8_t block[64]; /* a partial block */
    size_t used;       /* bytes of it */
    uint64_t length;   /* bytes hashed in all */
} sha256;

#ifdef HAVE_SHA_NI
#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* The state as the SHA instructions keep it: ABEF and CDGH. */
SHA_TARGET static inline void pack(const uint32_t s[8], __m128i *abef, __m128i *cdgh) {
    __m128i cdab = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *) s), 0xB1);
    __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *) (s + 4)), 0x1B);
    *abef = _mm_alignr_epi8(cdab, efgh, 8);
    *cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
}

SHA_TARGET static inline void unpack(uint32_t s[8], __m128i abef, __m128i cdgh) {
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *) s, _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *) (s + 4), _mm_alignr_epi8(dchg, feba, 8));
}

#define BYTE_SWAP _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL)

/*
 * Four rounds of one stream: w[] holds the last 16 schedule words, four per vector, in a ring; group g
 * (of 16) loads its words from the block (g < 4) or derives them from the ring.
 */
#define SCHEDULE(w, p, g)                                                                                  \
    do {                                                                                                   \
        if ((g) < 4) {                                                                                     \
            w[(g)] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) ((p) + 16 * (g))), BYTE_SWAP);   \
        } else {                                                                                           \
            __m128i t = _mm_sha256msg1_epu32(w[(g) & 3], w[((g) + 1) & 3]);                              \
            t = _mm_add_epi32(t, _mm_alignr_epi8(w[((g) + 3) & 3], w[((g) + 2) & 3], 4));                \
            w[(g) & 3] = _mm_sha256msg2_epu32(t, w[((g) + 3) & 3]);                                       \
        }                                                                                                  \
    } while (0)

/* Hashes n whole blocks of one stream. */
SHA_TARGET static void blocks1(uint32_t state[8], const uint8_t *p, size_t n) {
    __m128i abef, cdgh;
    pack(state, &abef, &cdgh);
    for (; n > 0; n--, p += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh, w[4];
#pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            SCHEDULE(w, p, g);
            __m128i m = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *) (ROUND_CONSTANTS + 4 * g)));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0E));
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    unpack(state, abef, cdgh);
}

/* Hashes n whole blocks of each of two streams, interleaved. */
SHA_TARGET static void blocks2(uint32_t sa[8], const uint8_t *p, uint32_t sb[8], const uint8_t *q, size_t n) {
    __m128i abef, cdgh, abef_b, cdgh_b;
    pack(sa, &abef, &cdgh);
    pack(sb, &abef_b, &cdgh_b);
    for (; n > 0; n--, p += 64, q += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh, abef0_b = abef_b, cdgh0_b = cdgh_b, w[4], v[4];
#pragma GCC unroll 16
        for (int g = 0; g < 16; g++) {
            SCHEDULE(w, p, g);
            SCHEDULE(v, q, g);
            __m128i k = _mm_loadu_si128((const __m128i *) (ROUND_CONSTANTS + 4 * g));
            __m128i m = _mm_add_epi32(w[g & 3], k);
            __m128i mb = _mm_add_epi32(v[g & 3], k);
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
            cdgh_b = _mm_sha256rnds2_epu32(cdgh_b, abef_b, mb);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0E));
            abef_b = _mm_sha256rnds2_epu32(abef_b, cdgh_b, _mm_shuffle_epi32(mb, 0x0E));
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
        abef_b = _mm_add_epi32(abef_b, abef0_b);
        cdgh_b = _mm_add_epi32(cdgh_b, cdgh0_b);
    }
    unpack(sa, abef, cdgh);
    unpack(sb, abef_b, cdgh_b);
}
#else
/* Never called: load() answers false without the SHA extensions. */
static void blocks1(uint32_t state[8], const uint8_t *p, size_t n) {
    abort();
}

static void blocks2(uint32_t sa[8], const uint8_t *p, uint32_t sb[8], const uint8_t *q, size_t n) {
    abort();
}
#endif

static void sha256_init(sha256 *s) {
    memcpy(s->state, INITIAL_STATE, sizeof INITIAL_STATE);
    s->used = 0;
    s->length = 0;
}

/* Moves bytes into the partial block, hashing it once full; afterwards either used == 0 or *length == 0. */
static void fill_block(sha256 *s, const uint8_t **p, size_t *length) {
    if (s->used == 0) {
        return;
    }
    size_t take = 64 - s->used < *length ? 64 - s->used : *length;
    memcpy(s->block + s->used, *p, take);
    s->used += take;
    s->length += take;
    *p += take;
    *length -= take;
    if (s->used == 64) {
        blocks1(s->state, s->block, 1);
        s->used = 0;
    }
}

static void sha256_update(sha256 *s, const uint8_t *p, size_t length) {
    fill_block(s, &p, &length);
    size_t whole = length / 64;
    if (whole > 0) {
        blocks1(s->state, p, whole);
        p += whole * 64;
        length -= whole * 64;
        s->length += whole * 64;
    }
    memcpy(s->block + s->used, p, length);
    s->used += length;
    s->length += length;
}

static void sha256_final(sha256 *s, uint8_t out[32]) {
    uint64_t bits = s->length * 8;
    uint8_t padding[72] = {0x80};
    size_t pad = (s->used < 56 ? 56 : 120) - s->used;
    for (int i = 0; i < 8; i++) {
        padding[pad + i] = (uint8_t) (bits >> (56 - 8 * i));
    }
    sha256_update(s, padding, pad + 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t) (s->state[i] >> 24);
        out[4 * i + 1] = (uint8_t) (s->state[i] >> 16);
        out[4 * i + 2] = (uint8_t) (s->state[i] >> 8);
        out[4 * i + 3] = (uint8_t) s->state[i];
    }
}

/* ------------------------------------------------------------------------------------------ walker */

#define BUFFER_SIZE (128 * 1024)
/* Room kept free for the framing of one step: an entry's tokens with a 255-byte name and a symlink's
 * target of up to PATH_MAX bytes come to under 4,600 bytes. */
#define STEP_ROOM 8192
/* Room for the end of a file's contents: padding and up to two closing tokens. */
#define FILE_END_ROOM 64
#define TARGET_MAX 4096
/*
 * Files of this size or more are hashed from a mapping, a window at a time, rather than read into the
 * buffer: the hash then reads the page cache itself, streaming it while it computes, instead of a copy
 * the kernel makes first. Over the benchmark's 1.8 GB store, single-stream SHA-256 took 1.52 CPU-s with
 * read() and 1.40 with files of 256 KiB or more mapped. Smaller files cost more in mmap and munmap than
 * their copy. A window is unmapped once hashed, so that the mapped pages of a large file do not pile up
 * in the process's resident size.
 */
#define MAP_MIN (256 * 1024)
#define WINDOW (4 * 1024 * 1024)

enum state { RUNNING, DONE, FAILED };

/* Why a walker stopped without a hash (beside an errno from a system call, which is positive). */
enum reason {
    OK = 0, UNSUPPORTED_TYPE = -1, SIZE_CHANGED = -2, TARGET_TOO_LONG = -3, NO_MEMORY = -4,
    /* A read of a mapped file faulted (SIGBUS: an I/O error, or the file shrank), in this lane or the
     * other lane of the same run; the Java side reads the item again and finds out which and why. */
    FAULTED = -5
};

struct entry {
    char *name;
    size_t length;
};

struct frame {
    DIR *dir;
    struct entry *entries;
    size_t count;
    size_t next;
    char *names;
};

typedef struct {
    char *root;
    struct frame *frames;
    size_t depth;
    size_t capacity;
    int started;
    int file;           /* the regular file being read, or -1 */
    int mapped;         /* whether that file is hashed from windows of a mapping rather than read */
    uint64_t file_size;
    uint64_t file_left; /* bytes of it not yet read, or not yet mapped */
    uint8_t *window;    /* the mapped window being hashed, or NULL */
    size_t window_length;
    uint8_t *buffer;
    size_t filled;
    const uint8_t *next; /* the bytes to hash next: in the buffer, or in the window */
    size_t left;
    sha256 hash;
    uint64_t nar_size;
    enum state state;
    int reason;
    int noncanonical;
} walker;

static void put_u64(walker *w, uint64_t value) {
    for (int i = 0; i < 8; i++) {
        w->buffer[w->filled++] = (uint8_t) (value >> (8 * i));
    }
}

static void put_padding(walker *w, uint64_t length) {
    size_t pad = (size_t) ((8 - (length % 8)) % 8);
    memset(w->buffer + w->filled, 0, pad);
    w->filled += pad;
}

static void put_bytes(walker *w, const void *bytes, size_t length) {
    put_u64(w, length);
    memcpy(w->buffer + w->filled, bytes, length);
    w->filled += length;
    put_padding(w, length);
}

static void put(walker *w, const char *token) {
    put_bytes(w, token, strlen(token));
}

static void fail(walker *w, int reason) {
    w->state = FAILED;
    w->reason = reason;
}

/* Closes the entry that holds the node just finished, if it is inside a directory. */
static void end_node(walker *w) {
    put(w, ")");
    if (w->depth > 0) {
        put(w, ")");
    } else {
        w->state = DONE;
    }
}

static int compare_entries(const void *x, const void *y) {
    const struct entry *a = x, *b = y;
    size_t common = a->length < b->length ? a->length : b->length;
    int order = memcmp(a->name, b->name, common);
    if (order != 0) {
        return order;
    }
    return a->length < b->length ? -1 : a->length > b->length;
}

/* Opens the directory parent/name, reads and sorts its entries, and pushes it. */
static void push_directory(walker *w, int parent, const char *name) {
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fail(w, errno);
        return;
    }
    DIR *dir = fdopendir(fd);
    if (dir == NULL) {
        fail(w, errno);
        close(fd);
        return;
    }
    size_t count = 0, capacity = 16, names_used = 0, names_capacity = 1024;
    struct entry *entries = malloc(capacity * sizeof *entries);
    char *names = malloc(names_capacity);
    if (entries == NULL || names == NULL) {
        goto no_memory;
    }
    for (;;) {
        errno = 0;
        struct dirent *d = readdir(dir);
        if (d == NULL) {
            if (errno != 0) {
                fail(w, errno);
                free(entries);
                free(names);
                closedir(dir);
                return;
            }
            break;
        }
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) {
            continue;
        }
        size_t length = strlen(d->d_name);
        if (count == capacity) {
            struct entry *more = realloc(entries, 2 * capacity * sizeof *entries);
            if (more == NULL) {
                goto no_memory;
            }
            entries = more;
            capacity *= 2;
        }
        if (names_used + length + 1 > names_capacity) {
            while (names_used + length + 1 > names_capacity) {
                names_capacity *= 2;
            }
            char *more = realloc(names, names_capacity);
            if (more == NULL) {
                goto no_memory;
            }
            names = more;
        }
        memcpy(names + names_used, d->d_name, length + 1);
        /* Offsets for now: the names block may still move. */
        entries[count].name = (char *) (uintptr_t) names_used;
        entries[count].length = length;
        names_used += length + 1;
        count++;
    }
    for (size_t i = 0; i < count; i++) {
        entries[i].name = names + (uintptr_t) entries[i].name;
    }
    qsort(entries, count, sizeof *entries, compare_entries);
    if (w->depth == w->capacity) {
        size_t capacity2 = w->capacity == 0 ? 16 : 2 * w->capacity;
        struct frame *more = realloc(w->frames, capacity2 * sizeof *more);
        if (more == NULL) {
            goto no_memory;
        }
        w->frames = more;
        w->capacity = capacity2;
    }
    w->frames[w->depth++] = (struct frame) {dir, entries, count, 0, names};
    return;
no_memory:
    free(entries);
    free(names);
    closedir(dir);
    fail(w, NO_MEMORY);
}

/* Writes the node parent/name: a symlink whole, a regular file up to its contents, a directory's start. */
static void node(walker *w, int parent, const char *name) {
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        fail(w, errno);
        return;
    }
    if (st.st_mtim.tv_sec != 1 || st.st_mtim.tv_nsec != 0) {
        w->noncanonical = 1;
    }
    if (S_ISREG(st.st_mode)) {
        int executable = (st.st_mode & S_IXUSR) != 0;
        if ((st.st_mode & 07777) != (executable ? 0555 : 0444)) {
            w->noncanonical = 1;
        }
        put(w, "(");
        put(w, "type");
        put(w, "regular");
        if (executable) {
            put(w, "executable");
            put(w, "");
        }
        put(w, "contents");
        put_u64(w, (uint64_t) st.st_size);
        w->file_size = w->file_left = (uint64_t) st.st_size;
        if (st.st_size == 0) {
            end_node(w);
            return;
        }
        w->file = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (w->file < 0) {
            fail(w, errno);
        }
        w->mapped = st.st_size >= MAP_MIN;
    } else if (S_ISDIR(st.st_mode)) {
        if ((st.st_mode & 07777) != 0555) {
            w->noncanonical = 1;
        }
        put(w, "(");
        put(w, "type");
        put(w, "directory");
        push_directory(w, parent, name);
    } else if (S_ISLNK(st.st_mode)) {
        char target[TARGET_MAX];
        ssize_t length = readlinkat(parent, name, target, sizeof target);
        if (length < 0) {
            fail(w, errno);
            return;
        }
        if ((size_t) length == sizeof target) {
            fail(w, TARGET_TOO_LONG);
            return;
        }
        put(w, "(");
        put(w, "type");
        put(w, "symlink");
        put(w, "target");
        put_bytes(w, target, (size_t) length);
        end_node(w);
    } else {
        fail(w, UNSUPPORTED_TYPE);
    }
}

/* One step of the walk outside file contents: the next entry of the innermost directory, or its end. */
static void step(walker *w) {
    if (!w->started) {
        w->started = 1;
        put(w, "nix-archive-1");
        node(w, AT_FDCWD, w->root);
        return;
    }
    struct frame *top = &w->frames[w->depth - 1];
    if (top->next < top->count) {
        struct entry *e = &top->entries[top->next++];
        put(w, "entry");
        put(w, "(");
        put(w, "name");
        put_bytes(w, e->name, e->length);
        put(w, "node");
        node(w, dirfd(top->dir), e->name);
        return;
    }
    closedir(top->dir);
    free(top->entries);
    free(top->names);
    w->depth--;
    end_node(w);
}

static void end_file(walker *w);

/* Reads the rest of the current file into the buffer, as far as it goes; ends the node at its end. */
static void contents(walker *w) {
    size_t room = BUFFER_SIZE - FILE_END_ROOM - w->filled;
    size_t want = w->file_left < room ? (size_t) w->file_left : room;
    ssize_t n = read(w->file, w->buffer + w->filled, want);
    if (n < 0) {
        if (errno != EINTR) {
            fail(w, errno);
        }
        return;
    }
    if (n == 0) {
        fail(w, SIZE_CHANGED); /* shorter than it was */
        return;
    }
    w->filled += (size_t) n;
    w->file_left -= (uint64_t) n;
    if (w->file_left == 0) {
        end_file(w);
    }
}

static void unmap_window(walker *w) {
    if (w->window != NULL) {
        munmap(w->window, w->window_length);
        w->window = NULL;
    }
}

/* Maps the next window of the current mapped file and makes it the bytes to hash. */
static void map_window(walker *w) {
    unmap_window(w);
    uint64_t offset = w->file_size - w->file_left;
    size_t length = w->file_left < WINDOW ? (size_t) w->file_left : WINDOW;
    void *window = mmap(NULL, length, PROT_READ, MAP_PRIVATE, w->file, (off_t) offset);
    if (window == MAP_FAILED) {
        fail(w, errno);
        return;
    }
    w->window = window;
    w->window_length = length;
    /* Populated now, so that hashing takes no page faults, and so that a page that cannot be read (EIO)
     * ends the lane here rather than in a fault. Not MAP_POPULATE: on a file whose reads fail with EIO,
     * Linux 6.18 retries that mmap forever. Before Linux 5.14 (EINVAL) pages fault in as they are hashed,
     * and run() catches the SIGBUS of an unreadable one. */
    if (madvise(window, length, MADV_POPULATE_READ) != 0 && errno != EINVAL) {
        fail(w, errno == EFAULT ? FAULTED : errno);
        return;
    }
    w->file_left -= length;
    w->next = window;
    w->left = length;
    w->nar_size += length;
}

/* Ends a file whose contents were all read or mapped: checks that its size did not change, closes it. */
static void end_file(walker *w) {
    struct stat st;
    if (fstat(w->file, &st) != 0) {
        fail(w, errno);
        return;
    }
    if ((uint64_t) st.st_size != w->file_size) {
        fail(w, SIZE_CHANGED); /* longer than it was */
        return;
    }
    close(w->file);
    w->file = -1;
    w->mapped = 0;
    put_padding(w, w->file_size);
    end_node(w);
}

/*
 * Makes the next NAR bytes the bytes to hash: the next window of a mapped file, or the buffer filled until
 * it is nearly full, the walk ends or fails, or a mapped file's contents come next.
 */
static void fill(walker *w) {
    w->filled = 0;
    w->left = 0;
    if (w->file >= 0 && w->mapped) {
        if (w->file_left > 0) {
            map_window(w);
            return;
        }
        unmap_window(w);
        end_file(w);
    }
    while (w->state == RUNNING) {
        if (w->file >= 0) {
            if (w->mapped || BUFFER_SIZE - FILE_END_ROOM - w->filled == 0) {
                break;
            }
            contents(w);
        } else if (BUFFER_SIZE - w->filled >= STEP_ROOM) {
            step(w);
        } else {
            break;
        }
    }
    w->next = w->buffer;
    w->left = w->filled;
    w->nar_size += w->filled;
}

/* Releases what the walk holds: open directories, their entries, the open file. */
static void release(walker *w) {
    while (w->depth > 0) {
        struct frame *top = &w->frames[--w->depth];
        closedir(top->dir);
        free(top->entries);
        free(top->names);
    }
    unmap_window(w);
    if (w->file >= 0) {
        close(w->file);
        w->file = -1;
    }
    w->mapped = 0;
    w->left = 0;
    free(w->root);
    w->root = NULL;
}

/* ------------------------------------------------------------------------------------------ hashing */

/* Whether the walker has bytes to hash or will have more. */
static int pending(const walker *w) {
    return w->state != FAILED && (w->left > 0 || w->state == RUNNING);
}

/* Moves fewer than 64 bytes left to hash into the partial block, so that the walker can be refilled. */
static void absorb_tail(walker *w) {
    if (w->left > 0 && w->left < 64 && w->state != FAILED) {
        sha256_update(&w->hash, w->next, w->left);
        w->next += w->left;
        w->left = 0;
    }
}

/* Hashes what two walkers have in common, interleaved: whole blocks of both, up to the shorter. */
static void hash_pair(walker *a, walker *b) {
    fill_block(&a->hash, &a->next, &a->left);
    fill_block(&b->hash, &b->next, &b->left);
    if (a->hash.used == 0 && b->hash.used == 0) {
        size_t n = (a->left < b->left ? a->left : b->left) / 64;
        if (n > 0) {
            blocks2(a->hash.state, a->next, b->hash.state, b->next, n);
            a->next += 64 * n;
            b->next += 64 * n;
            a->left -= 64 * n;
            b->left -= 64 * n;
            a->hash.length += 64 * n;
            b->hash.length += 64 * n;
        }
    }
    absorb_tail(a);
    absorb_tail(b);
}

/* Hashes all the bytes a walker has. */
static void hash_all(walker *w) {
    sha256_update(&w->hash, w->next, w->left);
    w->next += w->left;
    w->left = 0;
}

/*
 * SIGBUS while hashing a mapped window (a page that cannot be read, or is past the end of a file that
 * shrank) would kill the JVM. run() sets up a guard for its thread; the handler jumps back to it, and
 * hands any other SIGBUS to the handler it replaced (the JVM's, which handles faults of its own mapped
 * buffers), as libjsig's chaining does.
 */
struct guard {
    sigjmp_buf env;
};

static __thread struct guard *current_guard __attribute__((tls_model("initial-exec")));
static struct sigaction previous_sigbus;

static void on_sigbus(int signal, siginfo_t *info, void *context) {
    struct guard *guard = current_guard;
    if (guard != NULL) {
        current_guard = NULL;
        siglongjmp(guard->env, 1);
    }
    if (previous_sigbus.sa_flags & SA_SIGINFO) {
        previous_sigbus.sa_sigaction(signal, info, context);
    } else if (previous_sigbus.sa_handler == SIG_DFL) {
        /* As if there were no handler: the fault happens again on return, and kills the process. */
        sigaction(SIGBUS, &previous_sigbus, NULL);
    } else if (previous_sigbus.sa_handler != SIG_IGN) {
        previous_sigbus.sa_handler(signal);
    }
}

static int install_sigbus_handler(void) {
    static int installed;
    if (installed) {
        return 1; /* once: a second install would save this handler as the one to hand faults to */
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    installed = sigaction(SIGBUS, &action, &previous_sigbus) == 0;
    return installed;
}

/* Whether the walker is finished: done with nothing left to hash, or failed. */
static int finished(const walker *w) {
    return w != NULL && (w->state == FAILED || (w->state == DONE && w->left == 0));
}

/* ------------------------------------------------------------------------------------------ JNI */

static walker *handle(jlong h) {
    return (walker *) (intptr_t) h;
}

/* Whether the CPU has the SHA extensions (with SSSE3 and SSE4.1, which the code uses too). */
static int cpu_has_sha(void) {
#ifdef HAVE_SHA_NI
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1)) {
        return 0;
    }
    if (__get_cpuid_max(0, NULL) < 7) {
        return 0;
    }
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 29)) != 0;
#else
    return 0;
#endif
}

/* Known answers, one and two streams: SHA-256 of "abc" and of 1,000 bytes of 'a'. */
static int self_test(void) {
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const uint8_t thousand_a[32] = {
        0x41, 0xed, 0xec, 0xe4, 0x2d, 0x63, 0xe8, 0xd9, 0xbf, 0x51, 0x5a, 0x9b, 0xa6, 0x93, 0x2e, 0x1c,
        0x20, 0xcb, 0xc9, 0xf5, 0xa5, 0xd1, 0x34, 0x64, 0x5a, 0xdb, 0x5d, 0xb1, 0xb9, 0x73, 0x7e, 0xa3};
    uint8_t a[1000], out[32], out2[32];
    memset(a, 'a', sizeof a);
    sha256 s, t;
    sha256_init(&s);
    sha256_update(&s, (const uint8_t *) "abc", 3);
    sha256_final(&s, out);
    if (memcmp(out, abc, 32) != 0) {
        return 0;
    }
    /* Two streams: 15 whole blocks interleaved, as hash_pair hashes them, then the last 40 bytes. */
    sha256_init(&s);
    sha256_init(&t);
    blocks2(s.state, a, t.state, a, 15);
    s.length = t.length = 15 * 64;
    sha256_update(&s, a + 15 * 64, sizeof a - 15 * 64);
    sha256_update(&t, a + 15 * 64, sizeof a - 15 * 64);
    sha256_final(&s, out);
    sha256_final(&t, out2);
    return memcmp(out, thousand_a, 32) == 0 && memcmp(out2, thousand_a, 32) == 0;
}

JNIEXPORT jboolean JNICALL Java_org_granary_store_NativeNarHasher_load(JNIEnv *env, jclass type) {
    return cpu_has_sha() && self_test() && install_sigbus_handler() ? JNI_TRUE : JNI_FALSE;
}

/* A walker with its buffer, idle; 0 if out of memory. */
JNIEXPORT jlong JNICALL Java_org_granary_store_NativeNarHasher_create(JNIEnv *env, jclass type) {
    walker *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return 0;
    }
    w->buffer = malloc(BUFFER_SIZE);
    if (w->buffer == NULL) {
        free(w);
        return 0;
    }
    w->file = -1;
    w->state = DONE;
    return (jlong) (intptr_t) w;
}

/* Sets the walker on the item at path (bytes, absolute); false if out of memory. */
JNIEXPORT jboolean JNICALL Java_org_granary_store_NativeNarHasher_start(
        JNIEnv *env, jclass type, jlong h, jbyteArray path) {
    walker *w = handle(h);
    release(w);
    jsize length = (*env)->GetArrayLength(env, path);
    w->root = malloc((size_t) length + 1);
    if (w->root == NULL) {
        return JNI_FALSE;
    }
    (*env)->GetByteArrayRegion(env, path, 0, length, (jbyte *) w->root);
    w->root[length] = '\0';
    w->started = 0;
    w->file_size = w->file_left = 0;
    w->filled = 0;
    w->nar_size = 0;
    w->state = RUNNING;
    w->reason = OK;
    w->noncanonical = 0;
    sha256_init(&w->hash);
    return JNI_TRUE;
}

/*
 * Walks and hashes a, and b if not 0, until one of them is done or failed, or until at least budget NAR
 * bytes were read in all: returns 1 if a is done, 2 if b is, 3 if both are, 0 if the budget ran out
 * first. Both must have been started.
 */
JNIEXPORT jint JNICALL Java_org_granary_store_NativeNarHasher_run(
        JNIEnv *env, jclass type, jlong ha, jlong hb, jlong budget) {
    walker *const a = handle(ha);
    walker *const b = hb == 0 ? NULL : handle(hb);
    struct guard guard;
    if (sigsetjmp(guard.env, 1) != 0) {
        /* A mapped read faulted, in a's window or b's. Neither hash state can be trusted now (the
         * compiler may have updated either before the fault), so both lanes end without a hash and the
         * Java side reads both items again, finding the file at fault. */
        fail(a, FAULTED);
        if (b != NULL) {
            fail(b, FAULTED);
        }
        return 1 | (b != NULL ? 2 : 0);
    }
    current_guard = &guard;
    uint64_t read = 0;
    int done;
    for (;;) {
        if (pending(a) && a->left == 0) {
            fill(a);
            read += a->left;
        }
        if (b != NULL && pending(b) && b->left == 0) {
            fill(b);
            read += b->left;
        }
        int a_has = a->state != FAILED && a->left > 0;
        int b_has = b != NULL && b->state != FAILED && b->left > 0;
        if (a_has && b_has) {
            hash_pair(a, b);
        } else if (a_has) {
            hash_all(a);
        } else if (b_has) {
            hash_all(b);
        }
        done = (finished(a) ? 1 : 0) | (finished(b) ? 2 : 0);
        if (done != 0 || read >= (uint64_t) budget) {
            break;
        }
    }
    current_guard = NULL;
    return done;
}

/* Stops the walker where it is and releases what its walk holds; it is then idle. */
JNIEXPORT void JNICALL Java_org_granary_store_NativeNarHasher_abandon(JNIEnv *env, jclass type, jlong h) {
    walker *w = handle(h);
    release(w);
    w->state = DONE;
}

/*
 * The outcome of a finished walker: 0 with the digest in out and {NAR size, 1 if some metadata is not
 * canonical} in info; otherwise the reason it failed (an errno, or a negative code of enum reason).
 */
JNIEXPORT jint JNICALL Java_org_granary_store_NativeNarHasher_result(
        JNIEnv *env, jclass type, jlong h, jbyteArray out, jlongArray info) {
    walker *w = handle(h);
    if (w->state != DONE) {
        return w->state == FAILED ? w->reason : SIZE_CHANGED;
    }
    uint8_t digest[32];
    sha256_final(&w->hash, digest);
    (*env)->SetByteArrayRegion(env, out, 0, 32, (const jbyte *) digest);
    jlong values[2] = {(jlong) w->nar_size, w->noncanonical};
    (*env)->SetLongArrayRegion(env, info, 0, 2, values);
    return OK;
}

JNIEXPORT void JNICALL Java_org_granary_store_NativeNarHasher_destroy(JNIEnv *env, jclass type, jlong h) {
    walker *w = handle(h);
    release(w);
    free(w->frames);
    free(w->buffer);
    free(w);
}
