/**
 * Tree-sitter grammar for OmniLisp.
 *
 * It accepts exactly the text the compiler's reader accepts
 * (compiler/src/syntax/lexer.rs and grammar.lalrpop, LANGUAGE.md §1):
 * the token rules below are copied from the logos lexer, and the tokens
 * whose validity the lexer decides by code (numbers, strings with escapes,
 * characters, nested block comments) are recognised by the external
 * scanner in src/scanner.c, which repeats those checks. The scanner also
 * rejects bytes that are not UTF-8 in comments, strings and characters
 * (the compiler rejects a source file with any such byte).
 */

// Whitespace as the lexer's `\s` means it: Unicode White_Space (tree-sitter's
// own `\s` is narrower).
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

// A symbol's first and later characters (lexer.rs `Sym`): no whitespace,
// control characters, brackets, quotes, `;`, `,`, `.`, `:`, `#`, `^`, `&`,
// `\`; the first one not a digit either.
const SYMBOL_HEAD = `[^${WS}\\x00-\\x1f\\x7f-\\x9f()\\[\\]{}"';\`,.:#^&\\\\0-9]`;
const SYMBOL_TAIL = `[^${WS}\\x00-\\x1f\\x7f-\\x9f()\\[\\]{}"';\`,.:#^&\\\\]`;
const NAME = `${SYMBOL_HEAD}${SYMBOL_TAIL}*`;

module.exports = grammar({
  name: 'omnilisp',

  extras: $ => [new RegExp(`[${WS}]`), $.comment, $.block_comment],

  externals: $ => [
    $.block_comment,
    $.comment,
    $.number,
    $.string,
    $.character,
    // Returned for a malformed number (`-7a`, `1.2.3`, an Int that does
    // not fit in 64 bits), which no rule accepts: it becomes an ERROR node
    // instead of re-lexing as a symbol.
    $._invalid_token,
  ],

  word: $ => $.symbol,

  rules: {
    source_file: $ => repeat($._item),

    // The items of a sequence: datums, and `#_` with the datum it drops.
    _item: $ => choice($._datum, $.datum_comment),

    // `#_ d` drops `d`; `#_ #_ a b` drops both (grammar.lalrpop `Skipped`).
    datum_comment: $ => seq('#_', optional($.datum_comment), $._datum),

    _datum: $ => choice(
      $._primary,
      $.path,
      $.quote,
      $.quasiquote,
      $.unquote,
      $.unquote_splicing,
      $.keyword,
      $.metadata,
    ),

    // Datums after which a path segment may follow (reader.rs `ends_value`).
    _value: $ => choice(
      $.number,
      $.string,
      $.character,
      $.symbol,
      $.boolean,
      $.nothing,
      $.list,
      $.slot,
      $.kind,
      $.dict,
    ),

    _primary: $ => choice(
      $._value,
      $.rest_marker,
      $.guard_marker,
      $.ellipsis,
    ),

    // `a.b.c`, `xs.[i]`: segments touch the value before them.
    path: $ => seq(
      field('base', $._value),
      repeat1(choice($.field_segment, $.index_segment)),
    ),
    field_segment: _ => token.immediate(new RegExp(`\\.${NAME}`)),
    index_segment: $ => seq(token.immediate('.['), field('index', $._datum), ']'),

    quote: $ => seq("'", $._datum),
    quasiquote: $ => seq('`', $._datum),
    unquote: $ => seq(',', $._datum),
    unquote_splicing: $ => seq(',@', $._datum),

    // `:name` reads as `(quote name)`.
    keyword: _ => token(new RegExp(`:${NAME}`)),
    // `^:name` marks the following form.
    metadata: _ => token(new RegExp(`\\^:${NAME}`)),

    symbol: _ => token(new RegExp(NAME)),
    boolean: _ => choice('true', 'false'),
    nothing: _ => 'nothing',
    rest_marker: _ => '..',
    guard_marker: _ => '&',
    ellipsis: _ => '...',

    list: $ => seq('(', repeat($._item), ')'),
    slot: $ => seq('[', repeat($._item), ']'),
    kind: $ => seq('{', repeat($._item), '}'),
    dict: $ => seq('#{', repeat($._item), '}'),
  },
});
