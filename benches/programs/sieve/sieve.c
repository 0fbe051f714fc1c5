/* sieve: count the primes below n (default n = 2,000,000) with the sieve of
   Eratosthenes over a byte array, 10 times (a fresh array each time), as the
   Lisp versions do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long sieve(long n) {
    char *a = malloc(n > 0 ? n : 1);
    memset(a, 1, n);
    for (long i = 2; i * i < n; i++)
        if (a[i])
            for (long j = i * i; j < n; j += i) a[j] = 0;
    long count = 0;
    for (long i = 2; i < n; i++) count += a[i];
    free(a);
    return count;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    long last = 0, total = 0;
    for (int i = 0; i < 10; i++) { last = sieve(n); total += last; }
    printf("primes below %ld: %ld\ntotal: %ld\n", n, last, total);
    return 0;
}
