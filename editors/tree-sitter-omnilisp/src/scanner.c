// External scanner for the OmniLisp tree-sitter grammar.
//
// These are the tokens whose validity the compiler's logos lexer
// (compiler/src/syntax/lexer.rs) decides by code rather than by regex, so
// a regex alone would accept text the compiler rejects:
// - nested `#| ... |#` block comments;
// - numbers: the lexer takes the longest run of `[0-9A-Za-z_.+-]` after an
//   optional sign and a digit, then checks it is an Int that fits in 64 bits
//   (decimal or `0x` hex, `_` separators anywhere) or a Float;
// - strings, whose escapes are checked (`\n \t \r \0 \\ \"` and `\u{hex}`
//   naming a Unicode scalar value);
// - characters `#\c`, `#\name`, `#\xHEX`.
// - line comments, so that a byte that is not UTF-8 inside one is an error
//   (tree-sitter hands such a byte to the scanner as a negative lookahead;
//   the compiler rejects any file that is not UTF-8).
// The scanner keeps no state between tokens.

#include "tree_sitter/parser.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum TokenType { BLOCK_COMMENT, COMMENT, NUMBER, STRING, CHARACTER, INVALID_TOKEN };

// A growable buffer of code points (tokens have no length limit).
typedef struct {
  int32_t *data;
  size_t len;
  size_t cap;
} Buffer;

static void buffer_push(Buffer *b, int32_t c) {
  if (b->len == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 32;
    int32_t *data = realloc(b->data, cap * sizeof(int32_t));
    if (!data) abort();
    b->data = data;
    b->cap = cap;
  }
  b->data[b->len++] = c;
}

// Rust's `char::is_whitespace` (the Unicode White_Space property), which is
// what `\s` means in the lexer's regexes.
static bool is_space(int32_t c) {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

static bool is_digit(int32_t c) { return c >= '0' && c <= '9'; }

static bool is_hex(int32_t c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_value(int32_t c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// A later character of a symbol (lexer.rs `Sym`, second class).
static bool is_symbol_tail(int32_t c) {
  if (is_space(c) || c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return false;
  return c > 0x7f || strchr("()[]{}\"';`,.:#^&\\", (int)c) == NULL;
}

// A character of the lexer's broad number regex `[0-9A-Za-z_.+\-]`.
static bool is_number_char(int32_t c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '.' || c == '+' || c == '-';
}

static bool is_scalar(uint32_t c) { return c <= 0x10ffff && !(c >= 0xd800 && c <= 0xdfff); }

// lexer.rs `is_float_syntax`: D+ ( '.' D* )? ( [eE] [+-]? D+ )?, with at
// least a fraction or an exponent.
static bool is_float_syntax(const int32_t *s, size_t n) {
  size_t i = 0;
  while (i < n && is_digit(s[i])) i++;
  if (i == 0) return false;
  bool is_float = false;
  if (i < n && s[i] == '.') {
    is_float = true;
    i++;
    while (i < n && is_digit(s[i])) i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    is_float = true;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t exp_start = i;
    while (i < n && is_digit(s[i])) i++;
    if (i == exp_start) return false;
  }
  return is_float && i == n;
}

// lexer.rs `lex_number` on the text after the sign, `_`s removed.
static bool is_valid_number(const int32_t *d, size_t n, bool negative) {
  const uint64_t max_magnitude = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  if (n >= 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
    if (n == 2) return false;
    uint64_t value = 0;
    for (size_t i = 2; i < n; i++) {
      if (!is_hex(d[i])) return false;
      if (value > (UINT64_MAX >> 4)) return false;  // does not fit in 64 bits
      value = (value << 4) | (uint64_t)hex_value(d[i]);
    }
    return value <= max_magnitude;
  }
  bool all_digits = true;
  for (size_t i = 0; i < n; i++) all_digits = all_digits && is_digit(d[i]);
  if (all_digits) {
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++) {
      uint64_t digit = (uint64_t)(d[i] - '0');
      if (value > (UINT64_MAX - digit) / 10) return false;
      value = value * 10 + digit;
    }
    return value <= max_magnitude;
  }
  return is_float_syntax(d, n);
}

static bool scan_number(TSLexer *lexer, bool error_recovery) {
  bool signed_ = false, negative = false;
  if (lexer->lookahead == '+' || lexer->lookahead == '-') {
    negative = lexer->lookahead == '-';
    signed_ = true;
    lexer->advance(lexer, false);
    if (!is_digit(lexer->lookahead)) return false;
  }
  Buffer digits = {0};
  bool has_dot = false;
  while (!lexer->eof(lexer) && is_number_char(lexer->lookahead)) {
    int32_t c = lexer->lookahead;
    has_dot = has_dot || c == '.';
    if (c != '_') buffer_push(&digits, c);
    lexer->advance(lexer, false);
  }
  // `-7a!`: the symbol rule matches further than the number rule (which
  // stops at `!`), and the longest match wins: it is a symbol. A `.` ends
  // a symbol but not a number, so then the number is longer.
  if (signed_ && !has_dot && !lexer->eof(lexer) && is_symbol_tail(lexer->lookahead)) {
    free(digits.data);
    return false;
  }
  bool valid = is_valid_number(digits.data, digits.len, negative);
  free(digits.data);
  if (valid) {
    lexer->result_symbol = NUMBER;
    return true;
  }
  if (error_recovery) return false;
  lexer->result_symbol = INVALID_TOKEN;
  return true;
}

// After the opening `"`. Returns false (no token: an ERROR) for an
// unterminated string or a bad escape, as the compiler reports both.
static bool scan_string(TSLexer *lexer) {
  lexer->advance(lexer, false);
  for (;;) {
    if (lexer->eof(lexer) || lexer->lookahead < 0) return false;
    int32_t c = lexer->lookahead;
    lexer->advance(lexer, false);
    if (c == '"') {
      lexer->result_symbol = STRING;
      return true;
    }
    if (c != '\\') continue;
    if (lexer->eof(lexer)) return false;
    int32_t e = lexer->lookahead;
    lexer->advance(lexer, false);
    switch (e) {
      case 'n': case 't': case 'r': case '0': case '\\': case '"':
        break;
      case 'u': {
        if (lexer->lookahead != '{') return false;
        lexer->advance(lexer, false);
        uint32_t value = 0;
        int count = 0;
        while (lexer->lookahead != '}') {
          if (lexer->eof(lexer) || !is_hex(lexer->lookahead) || count == 6) return false;
          value = (value << 4) | (uint32_t)hex_value(lexer->lookahead);
          count++;
          lexer->advance(lexer, false);
        }
        lexer->advance(lexer, false);
        if (count == 0 || !is_scalar(value)) return false;
        break;
      }
      default:
        return false;
    }
  }
}

static const char *const CHAR_NAMES[] = {
    "space",  "newline", "linefeed",  "tab",    "return", "nul",
    "null",   "alarm",   "backspace", "delete", "escape", NULL,
};

static bool is_char_name(const int32_t *name, size_t n) {
  for (const char *const *known = CHAR_NAMES; *known; known++) {
    size_t len = strlen(*known);
    if (len != n) continue;
    size_t i = 0;
    while (i < n && name[i] == (unsigned char)(*known)[i]) i++;
    if (i == n) return true;
  }
  if (n < 2 || name[0] != 'x') return false;
  uint32_t value = 0;
  for (size_t i = 1; i < n; i++) {
    if (!is_hex(name[i])) return false;
    if (value > (UINT32_MAX >> 4)) return false;  // u32::from_str_radix overflows
    value = (value << 4) | (uint32_t)hex_value(name[i]);
  }
  return is_scalar(value);
}

// After `#`, at `\`: lexer.rs `Char`, `#\\[^\s][^\s()\[\]{}"';`,]*`.
static bool scan_character(TSLexer *lexer) {
  lexer->advance(lexer, false);
  if (lexer->eof(lexer) || is_space(lexer->lookahead) || lexer->lookahead < 0) return false;
  Buffer name = {0};
  buffer_push(&name, lexer->lookahead);
  lexer->advance(lexer, false);
  while (!lexer->eof(lexer) && !is_space(lexer->lookahead) && lexer->lookahead >= 0 &&
         (lexer->lookahead > 0x7f || lexer->lookahead == 0 ||
          !strchr("()[]{}\"';`,", (int)lexer->lookahead))) {
    buffer_push(&name, lexer->lookahead);
    lexer->advance(lexer, false);
  }
  bool valid = name.len == 1 || is_char_name(name.data, name.len);
  free(name.data);
  if (!valid) return false;
  lexer->result_symbol = CHARACTER;
  return true;
}

// At `;`: a comment to the end of the line.
static bool scan_line_comment(TSLexer *lexer) {
  while (!lexer->eof(lexer) && lexer->lookahead != '\n') {
    if (lexer->lookahead < 0) return false;  // not UTF-8
    lexer->advance(lexer, false);
  }
  lexer->result_symbol = COMMENT;
  return true;
}

// After `#`, at `|`: nesting `#| ... |#`.
static bool scan_block_comment(TSLexer *lexer) {
  lexer->advance(lexer, false);
  unsigned depth = 1;
  while (!lexer->eof(lexer)) {
    int32_t c = lexer->lookahead;
    if (c < 0) return false;  // not UTF-8
    lexer->advance(lexer, false);
    if (c == '|' && lexer->lookahead == '#') {
      lexer->advance(lexer, false);
      if (--depth == 0) {
        lexer->result_symbol = BLOCK_COMMENT;
        return true;
      }
    } else if (c == '#' && lexer->lookahead == '|') {
      lexer->advance(lexer, false);
      depth++;
    }
  }
  return false;  // unterminated
}

void *tree_sitter_omnilisp_external_scanner_create(void) { return NULL; }

void tree_sitter_omnilisp_external_scanner_destroy(void *payload) { (void)payload; }

unsigned tree_sitter_omnilisp_external_scanner_serialize(void *payload, char *buffer) {
  (void)payload;
  (void)buffer;
  return 0;
}

void tree_sitter_omnilisp_external_scanner_deserialize(void *payload, const char *buffer,
                                                        unsigned length) {
  (void)payload;
  (void)buffer;
  (void)length;
}

bool tree_sitter_omnilisp_external_scanner_scan(void *payload, TSLexer *lexer,
                                                const bool *valid_symbols) {
  (void)payload;
  // Every token is valid during error recovery; then never claim a
  // malformed token, let the parser skip it.
  bool error_recovery = valid_symbols[INVALID_TOKEN];
  while (!lexer->eof(lexer) && is_space(lexer->lookahead)) lexer->advance(lexer, true);
  if (lexer->eof(lexer)) return false;
  int32_t c = lexer->lookahead;
  if (c == '#') {
    lexer->advance(lexer, false);
    if (lexer->lookahead == '|' && valid_symbols[BLOCK_COMMENT]) return scan_block_comment(lexer);
    if (lexer->lookahead == '\\' && valid_symbols[CHARACTER]) return scan_character(lexer);
    return false;
  }
  if (c == ';' && valid_symbols[COMMENT]) return scan_line_comment(lexer);
  if (c == '"' && valid_symbols[STRING]) return scan_string(lexer);
  if (valid_symbols[NUMBER] && (is_digit(c) || c == '+' || c == '-'))
    return scan_number(lexer, error_recovery);
  return false;
}
