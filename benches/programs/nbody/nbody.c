/* nbody: the Benchmarks Game n-body simulation of the Sun and the four gas
   giants (default 1,000,000 steps of 0.01 days), Float arithmetic on the
   fields of mutable structs. Prints the energy before and after as
   round(energy * 1e9) (an integer, so that every version prints the same
   text). Every version performs the same double operations in the same
   order (parenthesised below as in the Lisp versions). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct { double x, y, z, vx, vy, vz, mass; } Body;

#define PI 3.141592653589793
#define SOLAR_MASS (4.0 * (PI * PI))
#define DAYS_PER_YEAR 365.24
#define NBODIES 5

static Body bodies[NBODIES];

static void init(void) {
    const double data[NBODIES][7] = {
        {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0},
        {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
         1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
         9.54791938424326609e-04},
        {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
         -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
         2.85885980666130812e-04},
        {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
         2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
         4.36624404335156298e-05},
        {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
         2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
         5.15138902046611451e-05},
    };
    for (int i = 0; i < NBODIES; i++) {
        const double *d = data[i];
        bodies[i] = (Body){d[0], d[1], d[2], d[3] * DAYS_PER_YEAR, d[4] * DAYS_PER_YEAR,
                           d[5] * DAYS_PER_YEAR, d[6] * SOLAR_MASS};
    }
}

static void offset_momentum(void) {
    double px = 0.0, py = 0.0, pz = 0.0;
    for (int i = 0; i < NBODIES; i++) {
        px = px + bodies[i].vx * bodies[i].mass;
        py = py + bodies[i].vy * bodies[i].mass;
        pz = pz + bodies[i].vz * bodies[i].mass;
    }
    bodies[0].vx = (0.0 - px) / SOLAR_MASS;
    bodies[0].vy = (0.0 - py) / SOLAR_MASS;
    bodies[0].vz = (0.0 - pz) / SOLAR_MASS;
}

static double energy(void) {
    double e = 0.0;
    for (int i = 0; i < NBODIES; i++) {
        Body *b = &bodies[i];
        e = e + 0.5 * (b->mass * ((b->vx * b->vx + b->vy * b->vy) + b->vz * b->vz));
        for (int j = i + 1; j < NBODIES; j++) {
            Body *c = &bodies[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            double dist = sqrt((dx * dx + dy * dy) + dz * dz);
            e = e - (b->mass * c->mass) / dist;
        }
    }
    return e;
}

static void advance(double dt) {
    for (int i = 0; i < NBODIES; i++) {
        Body *b = &bodies[i];
        for (int j = i + 1; j < NBODIES; j++) {
            Body *c = &bodies[j];
            double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
            double d2 = (dx * dx + dy * dy) + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            double cm = c->mass * mag, bm = b->mass * mag;
            b->vx = b->vx - dx * cm;
            b->vy = b->vy - dy * cm;
            b->vz = b->vz - dz * cm;
            c->vx = c->vx + dx * bm;
            c->vy = c->vy + dy * bm;
            c->vz = c->vz + dz * bm;
        }
    }
    for (int i = 0; i < NBODIES; i++) {
        Body *b = &bodies[i];
        b->x = b->x + dt * b->vx;
        b->y = b->y + dt * b->vy;
        b->z = b->z + dt * b->vz;
    }
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    init();
    offset_momentum();
    printf("energy before: %ld\n", (long)rint(energy() * 1e9));
    for (long i = 0; i < n; i++) advance(0.01);
    printf("energy after: %ld\n", (long)rint(energy() * 1e9));
    return 0;
}
