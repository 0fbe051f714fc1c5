; Highlighting for OmniLisp. For one node, a later pattern takes precedence
; over an earlier one (as in tree-sitter-highlight 0.25 and Neovim), so the general patterns come first.

; Atoms

(symbol) @variable

(number) @number

(string) @string

(character) @character

(boolean) @boolean

(nothing) @constant.builtin

; `:name` is `'name`: a quoted symbol.
(keyword) @string.special.symbol

(quote (symbol) @string.special.symbol)

[(comment) (block_comment)] @comment

; `#_ form` drops the form: the marker is a comment (the dropped form's own
; tokens keep their highlights: a host gives a child node's capture priority
; over its parent's).
(datum_comment) @comment

"#_" @comment

[(rest_marker) (guard_marker) (ellipsis)] @operator

; Paths: `a.b` fields and `xs.[i]` indexes.
(field_segment) @property

(index_segment [".[" "]"] @punctuation.bracket)

; Reader sugar and brackets

["'" "`" "," ",@"] @punctuation.special

["(" ")" "[" "]" "{" "}" "#{"] @punctuation.bracket

; Metadata `^:seq`, `^:parent {T}`
(metadata) @attribute

; Type annotations `{Int}`, `{(Array Int)}`, and type definitions
; `{struct Circle}`.
(kind (symbol) @type)

(kind (list (symbol) @type))

(kind
  .
  (symbol) @keyword
  (#any-of? @keyword "struct" "mutable-struct" "abstract" "effect")
  .
  (symbol) @type.definition)

; Calls: the head of a flow form.
(list
  .
  (symbol) @function.call)

(list
  .
  (path (field_segment) @function.method.call .))

; Special forms (compiler/src/expand/mod.rs `SPECIAL_FORMS`).
(list
  .
  (symbol) @keyword
  (#any-of? @keyword
    "quote" "quasiquote" "unquote" "unquote-splicing" "if" "when" "unless"
    "cond" "and" "or" "do" "begin" "let" "fn" "λ" "lambda" "define" "set!"
    "match" "try" "catch" "handle" "perform" "resume" "put!" "import"
    "module" "export" "literals" "error"))

((symbol) @keyword
  (#any-of? @keyword "else" "_"))

(list
  .
  (symbol) @keyword
  (#eq? @keyword "import")
  (keyword) @keyword.import)

; `(define name [...] ...)`, `(define name x ...)`: a function's name.
(list
  .
  (symbol) @keyword
  (#eq? @keyword "define")
  .
  (symbol) @function
  .
  [(slot) (symbol)])

; `(define name value)`, `(define name {T} value)`: a global.
(list
  .
  (symbol) @keyword
  (#eq? @keyword "define")
  .
  (symbol) @constant
  .
  [(number) (string) (character) (boolean) (nothing) (list) (dict) (quote) (keyword) (path)]
  .)

(list
  .
  (symbol) @keyword
  (#eq? @keyword "define")
  .
  (symbol) @constant
  .
  (kind)
  .
  [(number) (string) (character) (boolean) (nothing) (list) (dict) (quote) (keyword) (path)]
  .)

; `(define [syntax name] ...)`: a macro.
(list
  .
  (symbol) @keyword
  (#eq? @keyword "define")
  .
  (slot
    .
    (symbol) @keyword.directive
    (#eq? @keyword.directive "syntax")
    .
    (symbol) @function.macro))

; `(module name ...)`
(list
  .
  (symbol) @keyword
  (#eq? @keyword "module")
  .
  (symbol) @module)

; Parameters: `[x {Int}]` right after a defined name or `fn`.
(list
  .
  (symbol) @keyword
  (#any-of? @keyword "fn" "λ" "lambda")
  (slot
    .
    (symbol) @variable.parameter))

(list
  .
  (symbol) @keyword
  (#eq? @keyword "define")
  .
  (symbol)
  (slot
    .
    (symbol) @variable.parameter))
