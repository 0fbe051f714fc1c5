/* interp: an interpreter for a small Scheme subset (integers, booleans,
   variables, if, lambda, application, let, top-level define, the binary
   primitives + - * quotient remainder = < > <= >=), running a program it
   builds as data: a doubly recursive fib of n (default n = 24) and a tail
   loop of 10,000 * n iterations calling closures (make-adder, twice) and
   using let. Prints the value of each top-level expression. C has no
   quoted data, so the program is text read by a small s-expression reader
   (its cost is negligible); it is then analysed into nodes (variables
   resolved to frame depth and index, primitive calls to an opcode) and
   evaluated by one `switch` whose tail positions (if branches, let and
   closure bodies) loop instead of recursing, so the interpreted loops run in
   constant C stack. A frame is [parent v1 ... vn]; frames and closures come
   from a bump arena that is never freed (closures may capture any frame).
   Size: n. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *msg, const char *what) {
    fprintf(stderr, "error: interp: %s%s\n", msg, what ? what : "");
    exit(1);
}

static char *arena; static size_t arena_left;
static void *alloc(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n > arena_left) {
        size_t chunk = n > (1 << 20) ? n : (1 << 20);
        arena = malloc(chunk);
        if (!arena) die("out of memory", NULL);
        arena_left = chunk;
    }
    void *p = arena;
    arena += n; arena_left -= n;
    return p;
}

/* ---------------------------------------------------------------- reader */

enum { S_INT, S_SYM, S_BOOL, S_LIST };
typedef struct SExp { int kind; long i; const char *sym; struct SExp **items; int n; } SExp;

static const char *syms[256]; static int nsyms;
static const char *intern(const char *s, size_t len) {
    for (int i = 0; i < nsyms; i++)
        if (strlen(syms[i]) == len && memcmp(syms[i], s, len) == 0) return syms[i];
    if (nsyms == 256) die("too many symbols", NULL);
    char *c = alloc(len + 1);
    memcpy(c, s, len); c[len] = 0;
    return syms[nsyms++] = c;
}

static const char *rp;
static void skip_space(void) { while (*rp == ' ' || *rp == '\n' || *rp == '\t') rp++; }
static SExp *read_sexp(void) {
    skip_space();
    SExp *x = alloc(sizeof *x);
    memset(x, 0, sizeof *x);
    if (*rp == '(') {
        rp++;
        int cap = 4;
        x->kind = S_LIST;
        x->items = malloc(cap * sizeof *x->items);
        for (;;) {
            skip_space();
            if (*rp == ')') { rp++; return x; }
            if (!*rp) die("unclosed list", NULL);
            if (x->n == cap) x->items = realloc(x->items, (cap *= 2) * sizeof *x->items);
            x->items[x->n++] = read_sexp();
        }
    }
    const char *start = rp;
    while (*rp && *rp != ' ' && *rp != '\n' && *rp != '\t' && *rp != '(' && *rp != ')') rp++;
    if (rp == start) die("unexpected )", NULL);
    if (rp - start == 2 && start[0] == '#' && (start[1] == 't' || start[1] == 'f')) {
        x->kind = S_BOOL; x->i = start[1] == 't';
    } else if ((*start >= '0' && *start <= '9') || (*start == '-' && rp - start > 1)) {
        x->kind = S_INT; x->i = strtol(start, NULL, 10);
    } else {
        x->kind = S_SYM; x->sym = intern(start, rp - start);
    }
    return x;
}

/* ---------------------------------------------------------------- values and nodes */

enum { V_INT, V_BOOL, V_CLOSURE, V_UNBOUND };
struct Closure;
typedef struct { int tag; union { long i; struct Closure *c; } u; } Value;
typedef struct Frame { struct Frame *parent; Value slots[]; } Frame;

enum { N_CONST, N_LOCAL, N_GLOBAL, N_IF, N_LAMBDA, N_APP, N_LET, N_PRIM };
typedef struct Global { const char *name; Value value; } Global;
typedef struct Node {
    int kind;
    Value value;              /* CONST */
    int depth, index;         /* LOCAL */
    Global *global;           /* GLOBAL */
    struct Node *a, *b, *c;   /* IF: test then else; LAMBDA, LET: body in a; APP: function in a; PRIM: a b */
    struct Node **args;       /* APP: arguments; LET: inits */
    int nargs;                /* APP, LET; LAMBDA: arity */
    int op;                   /* PRIM */
} Node;
typedef struct Closure { Node *lam; Frame *env; } Closure;

static Global globals[256]; static int nglobals;
static Global *global_cell(const char *name) {
    for (int i = 0; i < nglobals; i++) if (globals[i].name == name) return &globals[i];
    if (nglobals == 256) die("too many globals", NULL);
    globals[nglobals].name = name;
    globals[nglobals].value.tag = V_UNBOUND;
    return &globals[nglobals++];
}

/* ---------------------------------------------------------------- analysis */

static const char *prim_names[] = { "+", "-", "*", "quotient", "remainder", "=", "<", ">", "<=", ">=" };
enum { NPRIMS = 10 };
static int prim_code(SExp *op) {
    if (op->kind != S_SYM) return -1;
    for (int i = 0; i < NPRIMS; i++) if (strcmp(op->sym, prim_names[i]) == 0) return i;
    return -1;
}

/* scope: the names of each enclosing frame, innermost first. */
typedef struct Scope { SExp **names; int n; struct Scope *outer; } Scope;

static Node *node(int kind) { Node *e = alloc(sizeof *e); memset(e, 0, sizeof *e); e->kind = kind; return e; }

static Node *resolve(const char *name, Scope *scope) {
    int depth = 0;
    for (; scope; scope = scope->outer, depth++)
        for (int i = 0; i < scope->n; i++)
            if (scope->names[i]->sym == name) {
                Node *e = node(N_LOCAL);
                e->depth = depth; e->index = i + 1;
                return e;
            }
    Node *e = node(N_GLOBAL);
    e->global = global_cell(name);
    return e;
}

static int is_sym(SExp *x, const char *s) { return x->kind == S_SYM && strcmp(x->sym, s) == 0; }

static Node *analyze(SExp *x, Scope *scope);
/* The nodes of xs; with inits, of the second item of each (name init) binding. */
static Node **analyze_all(SExp **xs, int n, int inits, Scope *scope) {
    Node **out = alloc((n ? n : 1) * sizeof *out);
    for (int i = 0; i < n; i++) out[i] = analyze(inits ? xs[i]->items[1] : xs[i], scope);
    return out;
}

static Node *analyze(SExp *x, Scope *scope) {
    switch (x->kind) {
    case S_INT: { Node *e = node(N_CONST); e->value.tag = V_INT; e->value.u.i = x->i; return e; }
    case S_BOOL: { Node *e = node(N_CONST); e->value.tag = V_BOOL; e->value.u.i = x->i; return e; }
    case S_SYM: return resolve(x->sym, scope);
    }
    if (x->n == 0) die("bad expression ()", NULL);
    SExp **it = x->items;
    if (x->n == 4 && is_sym(it[0], "if")) {
        Node *e = node(N_IF);
        e->a = analyze(it[1], scope); e->b = analyze(it[2], scope); e->c = analyze(it[3], scope);
        return e;
    }
    if (x->n == 3 && is_sym(it[0], "lambda") && it[1]->kind == S_LIST) {
        Scope inner = { it[1]->items, it[1]->n, scope };
        Node *e = node(N_LAMBDA);
        e->nargs = it[1]->n;
        e->a = analyze(it[2], &inner);
        return e;
    }
    if (x->n == 3 && is_sym(it[0], "let") && it[1]->kind == S_LIST) {
        SExp **bs = it[1]->items;
        int n = it[1]->n;
        Node *e = node(N_LET);
        e->args = analyze_all(bs, n, 1, scope);
        e->nargs = n;
        SExp **names = alloc((n ? n : 1) * sizeof *names);
        for (int i = 0; i < n; i++) names[i] = bs[i]->items[0];
        Scope let_scope = { names, n, scope };
        e->a = analyze(it[2], &let_scope);
        return e;
    }
    int op = x->n == 3 ? prim_code(it[0]) : -1;
    if (op >= 0) {
        Node *e = node(N_PRIM);
        e->op = op; e->a = analyze(it[1], scope); e->b = analyze(it[2], scope);
        return e;
    }
    Node *e = node(N_APP);
    e->a = analyze(it[0], scope);
    e->args = analyze_all(it + 1, x->n - 1, 0, scope);
    e->nargs = x->n - 1;
    return e;
}

/* ---------------------------------------------------------------- evaluation */

static Value eval(Node *e, Frame *env);

/* A new frame [parent v1 ... vn] holding the values of inits, evaluated left to right in env. */
static Frame *new_frame(Frame *parent, Node **inits, int n, Frame *env) {
    Frame *f = alloc(sizeof *f + n * sizeof(Value));
    f->parent = parent;
    for (int i = 0; i < n; i++) f->slots[i] = eval(inits[i], env);
    return f;
}

static long int_arg(Value v) { if (v.tag != V_INT) die("expected an integer", NULL); return v.u.i; }

static Value prim(int op, Value vx, Value vy) {
    long x = int_arg(vx), y = int_arg(vy);
    Value r = { V_INT, { 0 } };
    switch (op) {
    case 0: r.u.i = x + y; return r;
    case 1: r.u.i = x - y; return r;
    case 2: r.u.i = x * y; return r;
    case 3: if (y == 0) die("division by zero", NULL); r.u.i = x / y; return r;
    case 4: if (y == 0) die("division by zero", NULL); r.u.i = x % y; return r;
    }
    r.tag = V_BOOL;
    switch (op) {
    case 5: r.u.i = x == y; break;
    case 6: r.u.i = x < y; break;
    case 7: r.u.i = x > y; break;
    case 8: r.u.i = x <= y; break;
    default: r.u.i = x >= y; break;
    }
    return r;
}

static Value eval(Node *e, Frame *env) {
    for (;;) {
        switch (e->kind) {
        case N_CONST: return e->value;
        case N_LOCAL: {
            Frame *f = env;
            for (int d = e->depth; d > 0; d--) f = f->parent;
            return f->slots[e->index - 1];
        }
        case N_GLOBAL:
            if (e->global->value.tag == V_UNBOUND) die("unbound variable ", e->global->name);
            return e->global->value;
        case N_IF: {
            Value t = eval(e->a, env);
            e = (t.tag == V_BOOL && t.u.i == 0) ? e->c : e->b;
            continue;
        }
        case N_LAMBDA: {
            Closure *c = alloc(sizeof *c);
            c->lam = e; c->env = env;
            Value v = { V_CLOSURE, { 0 } };
            v.u.c = c;
            return v;
        }
        case N_LET:
            env = new_frame(env, e->args, e->nargs, env);
            e = e->a;
            continue;
        case N_PRIM: {
            Value x = eval(e->a, env);
            Value y = eval(e->b, env);
            return prim(e->op, x, y);
        }
        case N_APP: {
            Value f = eval(e->a, env);
            if (f.tag != V_CLOSURE) die("not a procedure", NULL);
            if (f.u.c->lam->nargs != e->nargs) die("wrong number of arguments", NULL);
            env = new_frame(f.u.c->env, e->args, e->nargs, env);
            e = f.u.c->lam->a;
            continue;
        }
        }
    }
}

static void show(Value v) {
    switch (v.tag) {
    case V_INT: printf("%ld\n", v.u.i); break;
    case V_BOOL: printf("%s\n", v.u.i ? "#t" : "#f"); break;
    default: printf("#<procedure>\n"); break;
    }
}

/* Top-level forms: (define name expr) sets the global, any other form is
   evaluated and its value printed. */
static void run(const char *text) {
    rp = text;
    for (;;) {
        skip_space();
        if (!*rp) return;
        SExp *form = read_sexp();
        if (form->kind == S_LIST && form->n == 3 && is_sym(form->items[0], "define") &&
            form->items[1]->kind == S_SYM) {
            Global *g = global_cell(form->items[1]->sym);
            g->value = eval(analyze(form->items[2], NULL), NULL);
        } else {
            show(eval(analyze(form, NULL), NULL));
        }
    }
}

static const char *program =
    "(define fib (lambda (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))))\n"
    "(define make-adder (lambda (k) (lambda (x) (+ x k))))\n"
    "(define twice (lambda (f x) (f (f x))))\n"
    "(define loop\n"
    "  (lambda (i acc add)\n"
    "    (if (= i 0)\n"
    "        acc\n"
    "        (let ((r (remainder i 7))) (loop (- i 1) (if (< r 3) (twice add acc) (- acc 1)) add)))))\n"
    "(define size %ld)\n"
    "(fib size)\n"
    "(loop (* size 10000) 0 (make-adder 3))\n"
    "(< (fib 10) (* 5 11))\n";

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 24;
    char text[2048];
    snprintf(text, sizeof text, program, n);
    run(text);
    return 0;
}
