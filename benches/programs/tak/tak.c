/* tak: Takeuchi function tak(n, 2n/3, n/3), repeated 10 times with a
   varying z so no call is loop-invariant. Size: n (default 28). */
#include <stdio.h>
#include <stdlib.h>

static long tak(long x, long y, long z) {
    if (y < x) return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
    return z;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 28;
    long sum = 0;
    for (long i = 0; i < 10; i++) sum += tak(n, n * 2 / 3, n / 3 + i % 2);
    printf("%ld\n", sum);
    return 0;
}
