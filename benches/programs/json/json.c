/* json: generate a JSON document of n records (default n = 27,000, about
   5 MB) with the Park-Miller generator (seed 42), print it to a string,
   parse the string back with a recursive-descent parser, and summarise the
   parsed value: how many values of each kind, the sum of the numbers, the
   total length in chars of the strings (keys included), the sum of the
   scores of the active records, and whether printing the parsed value gives
   the same text again. Strings are UTF-8 with their byte length; an object
   is an array of members in document order (found by linear search, as in
   small-object JSON libraries); numbers are longs; the text is a growable
   buffer. Nothing is freed (the process ends). Size: records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum Kind { STR, NUM, TRUE_, FALSE_, NUL, ARR, OBJ };
typedef struct Value Value;
typedef struct { char *s; long len; } Str;
struct Value {
    enum Kind kind;
    long num;
    Str str;
    long n, cap;      /* ARR, OBJ: elements / members */
    Value **items;    /* ARR: elements; OBJ: values */
    Str *keys;        /* OBJ: keys */
};

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    return p;
}

static Value *mk(enum Kind k) {
    Value *v = xmalloc(sizeof *v);
    memset(v, 0, sizeof *v);
    v->kind = k;
    return v;
}
static Value *mk_num(long n) { Value *v = mk(NUM); v->num = n; return v; }
static Value *mk_str(const char *s, long len) {
    Value *v = mk(STR);
    v->str.s = xmalloc(len + 1);
    memcpy(v->str.s, s, len); v->str.s[len] = 0;
    v->str.len = len;
    return v;
}
static void push(Value *a, Value *x) {
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 4;
        a->items = realloc(a->items, a->cap * sizeof *a->items);
        if (!a->items) { fprintf(stderr, "out of memory\n"); exit(1); }
    }
    a->items[a->n++] = x;
}
static void set(Value *o, const char *k, long klen, Value *x) {
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 4;
        o->items = realloc(o->items, o->cap * sizeof *o->items);
        o->keys = realloc(o->keys, o->cap * sizeof *o->keys);
        if (!o->items || !o->keys) { fprintf(stderr, "out of memory\n"); exit(1); }
    }
    Value *ks = mk_str(k, klen);
    o->keys[o->n] = ks->str;
    o->items[o->n++] = x;
}
static void setc(Value *o, const char *k, Value *x) { set(o, k, strlen(k), x); }
static Value *get(Value *o, const char *k) {
    long klen = strlen(k);
    for (long i = 0; i < o->n; i++)
        if (o->keys[i].len == klen && memcmp(o->keys[i].s, k, klen) == 0) return o->items[i];
    return NULL;
}

/* ---------------------------------------------------------------- generate */

static long seed = 42;
static long rnd(long n) { seed = seed * 16807 % 2147483647; return seed % n; }

/* The first letter drawn is the last of the word (the Lisp versions cons). */
static Value *word(void) {
    long len = 3 + rnd(8);
    char w[16];
    for (long j = len - 1; j >= 0; j--) w[j] = (char)('a' + rnd(26));
    return mk_str(w, len);
}

static Value *text(void) {
    long k = 1 + rnd(4);
    Value *frag[4];
    for (long j = k - 1; j >= 0; j--) {
        long r = rnd(10);
        switch (r) {
        case 5: frag[j] = mk_str("say \"hi\"", 8); break;
        case 6: frag[j] = mk_str("C:\\dir\\file", 11); break;
        case 7: frag[j] = mk_str("line\nnext\ttab", 13); break;
        case 8: frag[j] = mk_str("caf\xc3\xa9 \xce\xbbx", 9); break;
        case 9: frag[j] = mk_str("bell\x01", 5); break;
        default: frag[j] = word();
        }
    }
    char buf[256]; long len = 0;
    for (long j = 0; j < k; j++) {
        if (j > 0) buf[len++] = ' ';
        memcpy(buf + len, frag[j]->str.s, frag[j]->str.len);
        len += frag[j]->str.len;
    }
    return mk_str(buf, len);
}

static Value *record(long i) {
    Value *name = word();
    long score = rnd(2000001) - 1000000;
    int active = rnd(3) != 0;
    Value *tags = mk(ARR);
    for (long k = rnd(5); k > 0; k--) push(tags, word());
    Value *note = text();
    long x = rnd(1000);
    long y = 0 - rnd(1000);
    Value *z = rnd(2) == 0 ? mk(NUL) : mk_num(rnd(10));
    Value *history = mk(ARR);
    for (long k = rnd(4); k > 0; k--) {
        Value *t = mk(ARR);
        long a = rnd(100), b = rnd(100), c = rnd(100);
        push(t, mk_num(a)); push(t, mk_num(b)); push(t, mk_num(c));
        push(history, t);
    }
    Value *pos = mk(OBJ);
    setc(pos, "x", mk_num(x)); setc(pos, "y", mk_num(y)); setc(pos, "z", z);
    Value *r = mk(OBJ);
    setc(r, "id", mk_num(i)); setc(r, "name", name); setc(r, "score", mk_num(score));
    setc(r, "active", mk(active ? TRUE_ : FALSE_)); setc(r, "tags", tags);
    setc(r, "text", note); setc(r, "pos", pos); setc(r, "history", history);
    return r;
}

static Value *document(long n) {
    Value *rs = mk(ARR);
    for (long i = 0; i < n; i++) push(rs, record(i));
    Value *d = mk(OBJ);
    setc(d, "count", mk_num(n));
    setc(d, "records", rs);
    return d;
}

/* ---------------------------------------------------------------- print */

typedef struct { char *s; long len, cap; } Buf;
static void reserve(Buf *b, long more) {
    if (b->len + more > b->cap) {
        while (b->len + more > b->cap) b->cap = b->cap ? 2 * b->cap : 1024;
        b->s = realloc(b->s, b->cap);
        if (!b->s) { fprintf(stderr, "out of memory\n"); exit(1); }
    }
}
static void put(Buf *b, const char *s, long len) { reserve(b, len); memcpy(b->s + b->len, s, len); b->len += len; }
static void putc_(Buf *b, char c) { reserve(b, 1); b->s[b->len++] = c; }

static void emit_hex4(Buf *b, long k) {
    static const char hex[] = "0123456789abcdef";
    char e[6] = { '\\', 'u', hex[(k >> 12) & 15], hex[(k >> 8) & 15], hex[(k >> 4) & 15], hex[k & 15] };
    put(b, e, 6);
}

static void emit_string(Buf *b, Str s) {
    const unsigned char *p = (const unsigned char *)s.s, *end = p + s.len;
    putc_(b, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 32 && *p < 127 && *p != '"' && *p != '\\') p++;
        put(b, (const char *)run, p - run);
        if (p == end) break;
        unsigned c = *p;
        if (c == '"') { put(b, "\\\"", 2); p++; }
        else if (c == '\\') { put(b, "\\\\", 2); p++; }
        else if (c == '\n') { put(b, "\\n", 2); p++; }
        else if (c == '\t') { put(b, "\\t", 2); p++; }
        else if (c < 128) { emit_hex4(b, c); p++; }
        else if (c < 0xe0) { emit_hex4(b, ((c & 0x1f) << 6) | (p[1] & 0x3f)); p += 2; }
        else { emit_hex4(b, ((c & 0x0f) << 12) | ((p[1] & 0x3f) << 6) | (p[2] & 0x3f)); p += 3; }
    }
    putc_(b, '"');
}

static void emit_value(Buf *b, Value *v) {
    char num[32];
    switch (v->kind) {
    case STR: emit_string(b, v->str); break;
    case NUM: put(b, num, snprintf(num, sizeof num, "%ld", v->num)); break;
    case TRUE_: put(b, "true", 4); break;
    case FALSE_: put(b, "false", 5); break;
    case NUL: put(b, "null", 4); break;
    case ARR:
        putc_(b, '[');
        for (long i = 0; i < v->n; i++) { if (i) putc_(b, ','); emit_value(b, v->items[i]); }
        putc_(b, ']');
        break;
    case OBJ:
        putc_(b, '{');
        for (long i = 0; i < v->n; i++) {
            if (i) putc_(b, ',');
            emit_string(b, v->keys[i]); putc_(b, ':'); emit_value(b, v->items[i]);
        }
        putc_(b, '}');
        break;
    }
}

static Buf to_json(Value *v) { Buf b = { 0 }; emit_value(&b, v); return b; }

/* ---------------------------------------------------------------- parse */

static const char *src; static long srclen, pos;

static void fail(const char *what) {
    fprintf(stderr, "error: json: %s at %ld\n", what, pos);
    exit(1);
}
static int next_char(void) { if (pos >= srclen) fail("unexpected end"); return (unsigned char)src[pos++]; }
static void skip_ws(void) {
    while (pos < srclen && (src[pos] == ' ' || src[pos] == '\n' || src[pos] == '\t' || src[pos] == '\r')) pos++;
}
static void expect(char c) { skip_ws(); if (next_char() != c) fail("unexpected character"); }

static long parse_number(void) {
    if (pos >= srclen || src[pos] < '0' || src[pos] > '9') fail("expected a digit");
    long acc = 0;
    while (pos < srclen && src[pos] >= '0' && src[pos] <= '9') acc = acc * 10 + (src[pos++] - '0');
    return acc;
}

static long hex_value(void) {
    int c = next_char();
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    fail("bad \\u escape");
    return 0;
}

static Buf sbuf;
static Str parse_string(void) {
    expect('"');
    sbuf.len = 0;
    for (;;) {
        long start = pos;
        while (pos < srclen && src[pos] != '"' && src[pos] != '\\') pos++;
        put(&sbuf, src + start, pos - start);
        int c = next_char();
        if (c == '"') break;
        c = next_char();
        switch (c) {
        case '"': putc_(&sbuf, '"'); break;
        case '\\': putc_(&sbuf, '\\'); break;
        case '/': putc_(&sbuf, '/'); break;
        case 'n': putc_(&sbuf, '\n'); break;
        case 't': putc_(&sbuf, '\t'); break;
        case 'r': putc_(&sbuf, '\r'); break;
        case 'b': putc_(&sbuf, '\b'); break;
        case 'f': putc_(&sbuf, '\f'); break;
        case 'u': {
            long a = hex_value(), b = hex_value(), c2 = hex_value(), d = hex_value();
            long k = a * 4096 + b * 256 + c2 * 16 + d;
            if (k < 0x80) putc_(&sbuf, (char)k);
            else if (k < 0x800) { putc_(&sbuf, (char)(0xc0 | (k >> 6))); putc_(&sbuf, (char)(0x80 | (k & 0x3f))); }
            else {
                putc_(&sbuf, (char)(0xe0 | (k >> 12)));
                putc_(&sbuf, (char)(0x80 | ((k >> 6) & 0x3f)));
                putc_(&sbuf, (char)(0x80 | (k & 0x3f)));
            }
            break;
        }
        default: fail("bad escape");
        }
    }
    Str s = { xmalloc(sbuf.len + 1), sbuf.len };
    memcpy(s.s, sbuf.s, sbuf.len); s.s[sbuf.len] = 0;
    return s;
}

static void parse_literal(const char *word) {
    long len = strlen(word);
    if (pos + len > srclen || memcmp(src + pos, word, len) != 0) fail("bad literal");
    pos += len;
}

static Value *parse_value(void) {
    skip_ws();
    if (pos >= srclen) fail("unexpected end");
    switch (src[pos]) {
    case '{': {
        Value *o = mk(OBJ);
        pos++; skip_ws();
        if (pos < srclen && src[pos] == '}') { pos++; return o; }
        for (;;) {
            Str k = parse_string();
            expect(':');
            Value *x = parse_value();
            set(o, k.s, k.len, x);
            free(k.s);
            skip_ws();
            int c = next_char();
            if (c == '}') return o;
            if (c != ',') fail("expected , or }");
        }
    }
    case '[': {
        Value *a = mk(ARR);
        pos++; skip_ws();
        if (pos < srclen && src[pos] == ']') { pos++; return a; }
        for (;;) {
            push(a, parse_value());
            skip_ws();
            int c = next_char();
            if (c == ']') return a;
            if (c != ',') fail("expected , or ]");
        }
    }
    case '"': { Value *v = mk(STR); v->str = parse_string(); return v; }
    case 't': parse_literal("true"); return mk(TRUE_);
    case 'f': parse_literal("false"); return mk(FALSE_);
    case 'n': parse_literal("null"); return mk(NUL);
    case '-': pos++; return mk_num(-parse_number());
    default: return mk_num(parse_number());
    }
}

static Value *parse(const char *s, long len) {
    src = s; srclen = len; pos = 0;
    Value *v = parse_value();
    skip_ws();
    if (pos < srclen) fail("text after the value");
    return v;
}

/* ---------------------------------------------------------------- summarise */

typedef struct { long objects, arrays, strings, numbers, trues, falses, nulls, members, sum, chars; } Stats;

static long char_count(Str s) {
    long n = 0;
    for (long i = 0; i < s.len; i++) if ((s.s[i] & 0xc0) != 0x80) n++;
    return n;
}

static void walk(Value *v, Stats *st) {
    switch (v->kind) {
    case STR: st->strings++; st->chars += char_count(v->str); break;
    case NUM: st->numbers++; st->sum += v->num; break;
    case TRUE_: st->trues++; break;
    case FALSE_: st->falses++; break;
    case NUL: st->nulls++; break;
    case ARR:
        st->arrays++;
        for (long i = 0; i < v->n; i++) walk(v->items[i], st);
        break;
    case OBJ:
        st->objects++;
        for (long i = 0; i < v->n; i++) {
            st->members++;
            st->chars += char_count(v->keys[i]);
            walk(v->items[i], st);
        }
        break;
    }
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 27000;
    Buf doc = to_json(document(n));
    Value *value = parse(doc.s, doc.len);
    Stats st = { 0 };
    walk(value, &st);
    printf("document: %ld chars\n", doc.len);
    printf("objects: %ld arrays: %ld members: %ld\n", st.objects, st.arrays, st.members);
    printf("strings: %ld numbers: %ld true: %ld false: %ld null: %ld\n",
           st.strings, st.numbers, st.trues, st.falses, st.nulls);
    printf("sum of numbers: %ld\n", st.sum);
    printf("string chars: %ld\n", st.chars);
    Value *rs = get(value, "records");
    long active = 0;
    for (long i = 0; i < rs->n; i++)
        if (get(rs->items[i], "active")->kind == TRUE_) active += get(rs->items[i], "score")->num;
    printf("active score: %ld\n", active);
    Buf again = to_json(value);
    printf("round trip: %s\n", again.len == doc.len && memcmp(again.s, doc.s, doc.len) == 0 ? "same" : "different");
    return 0;
}
