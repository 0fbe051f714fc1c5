/* mbrot: count the points of an n x n grid (default n = 1000) over
   [-1.5, 0.5] x [-1, 1] that stay in the Mandelbrot set for 50 iterations
   of z := z^2 + c (|z|^2 > 4 escapes). The same double operations in the
   same order as the Lisp versions (gcc -O2 on x86-64 does not contract
   them into FMAs), so the counts agree exactly. */
#include <stdio.h>
#include <stdlib.h>

static long in_set(double cr, double ci) {
    double zr = 0.0, zi = 0.0;
    for (int k = 0; k < 50; k++) {
        double zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 > 4.0) return 0;
        double nzr = (zr2 - zi2) + cr;
        zi = 2.0 * (zr * zi) + ci;
        zr = nzr;
    }
    return 1;
}

static double coord(long i, long n, double offset) {
    return (2.0 * (double)i) / (double)n - offset;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long count = 0;
    for (long y = 0; y < n; y++)
        for (long x = 0; x < n; x++)
            count += in_set(coord(x, n, 1.5), coord(y, n, 1.0));
    printf("mbrot %ld: %ld\n", n, count);
    return 0;
}
