/* string-build: build a large string from many small pieces
   ("k<i>," for i = 0 .. n-1, default n = 1,000,000) with a growable buffer,
   then print its length, its first 30 and its last 30 characters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    size_t cap = 16, len = 0;
    char *buf = malloc(cap);
    for (long i = 0; i < n; i++) {
        char piece[32];
        int m = snprintf(piece, sizeof piece, "k%ld,", i);
        if (len + m + 1 > cap) { while (len + m + 1 > cap) cap *= 2; buf = realloc(buf, cap); }
        memcpy(buf + len, piece, m);
        len += m;
    }
    buf[len] = 0;
    printf("%zu\n", len);
    printf("%.30s\n", buf);
    printf("%s\n", len >= 30 ? buf + len - 30 : buf);
    free(buf);
    return 0;
}
