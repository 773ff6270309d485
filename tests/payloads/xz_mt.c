/* A real multi-threaded compressor: liblzma's threaded .xz encoder and
 * decoder (the code xz -T uses) on a file or on generated text. Prints the
 * sizes and CRC32s of the input and of the compressed stream, which only a
 * correct run gives (the threaded encoder's output depends on the block size
 * and the input, not on the thread count), and exits 0 when the round trip
 * gives the input back. Usage: xz_mt THREADS [MIB [FILE]]. */
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Small blocks, so that even a few MiB of input keep every thread busy. */
#define BLOCK_SIZE (256u << 10)
#define MAX_THREADS 64
#define MAX_MIB 256

/* Words from a fixed list picked by a fixed LCG: text that compresses
 * about 3:1, the same on every run. */
static void generate(uint8_t *buf, size_t len)
{
	static const char *const words[] = {
	    "the ",    "virtual ", "memory ", "page ",	"table ",   "walk ",   "costs ",
	    "cycles ", "when ",	   "a ",      "guest ", "touches ", "huge ",   "pages ",
	    "shadow ", "nested ",  "tlb ",    "miss ",	"flush ",   "thread ", "\n"};
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t n = 0;

	while (n < len) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		const char *w = words[(x >> 33) % (sizeof(words) / sizeof(words[0]))];
		size_t wl = strlen(w);

		if (wl > len - n)
			wl = len - n;
		memcpy(buf + n, w, wl);
		n += wl;
	}
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, n = 0, got;
	uint8_t *b = malloc(cap);

	if (!f || !b) {
		perror(path);
		return -1;
	}
	while ((got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *nb = cap < ((size_t)MAX_MIB << 20) ? realloc(b, cap * 2) : NULL;

			if (!nb) {
				fprintf(stderr, "xz_mt: %s: larger than %d MiB\n", path, MAX_MIB);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

/* Runs strm over in[0..in_len) into out (cap bytes); returns the bytes out
 * or -1 with the reason printed. */
static long code_all(lzma_stream *strm, const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
		     const char *what)
{
	lzma_ret r;

	strm->next_in = in;
	strm->avail_in = in_len;
	strm->next_out = out;
	strm->avail_out = cap;
	do
		r = lzma_code(strm, LZMA_FINISH);
	while (r == LZMA_OK && strm->avail_out > 0);
	if (r != LZMA_STREAM_END) {
		fprintf(stderr, "xz_mt: %s: lzma_code: %d (out %zu of %zu)\n", what, (int)r,
			cap - strm->avail_out, cap);
		return -1;
	}
	return (long)(cap - strm->avail_out);
}

static long compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap, uint32_t threads)
{
	lzma_mt mt = {
	    .threads = threads, .block_size = BLOCK_SIZE, .preset = 1, .check = LZMA_CHECK_CRC64};
	lzma_stream strm = LZMA_STREAM_INIT;
	lzma_ret r = lzma_stream_encoder_mt(&strm, &mt);
	long n;

	if (r != LZMA_OK) {
		fprintf(stderr, "xz_mt: lzma_stream_encoder_mt: %d\n", (int)r);
		return -1;
	}
	n = code_all(&strm, in, len, out, cap, "compress");
	lzma_end(&strm);
	return n;
}

static long decompress(const uint8_t *in, size_t len, uint8_t *out, size_t cap, uint32_t threads)
{
	lzma_mt mt = {.threads = threads,
		      .memlimit_threading = UINT64_MAX,
		      .memlimit_stop = UINT64_MAX,
		      .flags = LZMA_FAIL_FAST};
	lzma_stream strm = LZMA_STREAM_INIT;
	lzma_ret r = lzma_stream_decoder_mt(&strm, &mt);
	long n;

	if (r != LZMA_OK) {
		fprintf(stderr, "xz_mt: lzma_stream_decoder_mt: %d\n", (int)r);
		return -1;
	}
	n = code_all(&strm, in, len, out, cap, "decompress");
	lzma_end(&strm);
	return n;
}

int main(int argc, char **argv)
{
	long threads = argc > 1 ? strtol(argv[1], NULL, 10) : 2;
	long mib = argc > 2 ? strtol(argv[2], NULL, 10) : 4;
	uint8_t *in, *packed, *back;
	size_t len, cap;
	long plen, blen;

	if (argc > 4 || threads < 1 || threads > MAX_THREADS || mib < 1 || mib > MAX_MIB) {
		fprintf(stderr, "usage: xz_mt THREADS(1..%d) [MIB(1..%d) [FILE]]\n", MAX_THREADS,
			MAX_MIB);
		return 2;
	}
	if (argc == 4) {
		if (read_file(argv[3], &in, &len))
			return 1;
	} else {
		len = (size_t)mib << 20;
		in = malloc(len);
		if (!in) {
			perror("malloc");
			return 1;
		}
		generate(in, len);
	}
	cap = lzma_stream_buffer_bound(len);
	packed = malloc(cap);
	back = malloc(len + 1);
	if (!packed || !back) {
		perror("malloc");
		return 1;
	}
	plen = compress(in, len, packed, cap, (uint32_t)threads);
	if (plen < 0)
		return 1;
	blen = decompress(packed, (size_t)plen, back, len + 1, (uint32_t)threads);
	if (blen < 0)
		return 1;
	printf("input %zu bytes crc32 %08x\n", len, lzma_crc32(in, len, 0));
	printf("xz %ld bytes crc32 %08x blocks of %u KiB\n", plen,
	       lzma_crc32(packed, (size_t)plen, 0), BLOCK_SIZE >> 10);
	if ((size_t)blen != len || memcmp(in, back, len) != 0) {
		printf("round trip: differs (%ld bytes back)\n", blen);
		return 1;
	}
	printf("round trip: same\n");
	return 0;
}
