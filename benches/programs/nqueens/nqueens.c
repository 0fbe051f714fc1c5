/* nqueens: count the solutions of the n-queens problem (default n=10).
   The same list-based search as the Lisp versions: a partial solution is a
   linked list of queen columns (most recent first); a column is safe when no
   queen in the list is on the same column or diagonal. The count is run
   `reps` times (default 100) so that the run is long enough to time. */
#include <stdio.h>
#include <stdlib.h>

typedef struct Cell { long col; struct Cell *next; } Cell;

static int safe(long col, long dist, const Cell *qs) {
    for (; qs; qs = qs->next, dist++)
        if (qs->col == col || qs->col - col == dist || col - qs->col == dist) return 0;
    return 1;
}

static long place(long n, long row, Cell *qs) {
    if (row == n) return 1;
    long count = 0;
    for (long col = 0; col < n; col++) {
        if (safe(col, 1, qs)) {
            Cell *c = malloc(sizeof *c);
            c->col = col; c->next = qs;
            count += place(n, row + 1, c);
            free(c);
        }
    }
    return count;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10;
    long reps = argc > 2 ? atol(argv[2]) : 100;
    long total = 0, one = 0;
    for (long i = 0; i < reps; i++) { one = place(n, 0, NULL); total += one; }
    printf("%ld\n%ld\n", one, total);
    return 0;
}
