/* ack: the Ackermann function A(3, n) (default n = 11), computed by the
   naive doubly recursive definition, as the Lisp versions do. */
#include <stdio.h>
#include <stdlib.h>

static long ack(long m, long n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 11;
    printf("ack 3 %ld: %ld\n", n, ack(3, n));
    return 0;
}
