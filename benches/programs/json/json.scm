;; json: generate a JSON document of n records (default n = 27,000, about
;; 5 MB) with the Park-Miller generator (seed 42), print it to a string,
;; parse the string back with a recursive-descent parser, and summarise the
;; parsed value: how many values of each kind, the sum of the numbers, the
;; total length in chars of the strings (keys included), the sum of the
;; scores of the active records, and whether printing the parsed value gives
;; the same text again. An object is an association list of (key . value)
;; in document order (pairs and () are objects only), an array is a vector,
;; null is the symbol null; the text is printed to a string port. Every
;; random draw is sequenced with let* (argument order is unspecified in
;; Scheme). Size: records.

;; ---------------------------------------------------------------- generate

(define seed 42)
(define (rand n)
  (set! seed (remainder (* seed 16807) 2147483647))
  (remainder seed n))

(define (word-chars k acc)
  (if (= k 0) acc (word-chars (- k 1) (cons (integer->char (+ 97 (rand 26))) acc))))
(define (word) (list->string (word-chars (+ 3 (rand 8)) '())))

(define cafe (string-append "caf" (string (integer->char #xe9)) " " (string (integer->char #x3bb)) "x"))
(define bell (string-append "bell" (string (integer->char 1))))
(define (fragment)
  (case (rand 10)
    [(5) "say \"hi\""]
    [(6) "C:\\dir\\file"]
    [(7) "line\nnext\ttab"]
    [(8) cafe]
    [(9) bell]
    [else (word)]))

(define (fragments k acc)
  (if (= k 0) acc (fragments (- k 1) (cons (fragment) acc))))
(define (join-spaced strs)
  (let loop ([acc (car strs)] [more (cdr strs)])
    (if (null? more) acc (loop (string-append acc " " (car more)) (cdr more)))))
(define (text) (join-spaced (fragments (+ 1 (rand 4)) '())))

(define (words k acc)
  (if (= k 0) (list->vector (reverse acc)) (words (- k 1) (cons (word) acc))))

(define (triples k acc)
  (if (= k 0)
      (list->vector (reverse acc))
      (let* ([x (rand 100)] [y (rand 100)] [z (rand 100)])
        (triples (- k 1) (cons (vector x y z) acc)))))

(define (record i)
  (let* ([name (word)]
         [score (- (rand 2000001) 1000000)]
         [active (not (= (rand 3) 0))]
         [tags (words (rand 5) '())]
         [note (text)]
         [x (rand 1000)]
         [y (- 0 (rand 1000))]
         [z (if (= (rand 2) 0) 'null (rand 10))]
         [history (triples (rand 4) '())])
    (list (cons "id" i) (cons "name" name) (cons "score" score) (cons "active" active)
          (cons "tags" tags) (cons "text" note)
          (cons "pos" (list (cons "x" x) (cons "y" y) (cons "z" z)))
          (cons "history" history))))

(define (records i n acc)
  (if (= i n) (list->vector (reverse acc)) (records (+ i 1) n (cons (record i) acc))))

(define (document n) (list (cons "count" n) (cons "records" (records 0 n '()))))

;; ---------------------------------------------------------------- print

(define hex-digits "0123456789abcdef")
(define (hex-digit k d) (string-ref hex-digits (remainder (quotient k d) 16)))

(define (emit-char c out)
  (case c
    [(#\") (display "\\\"" out)]
    [(#\\) (display "\\\\" out)]
    [(#\newline) (display "\\n" out)]
    [(#\tab) (display "\\t" out)]
    [else
     (let ([k (char->integer c)])
       (if (and (>= k 32) (< k 127))
           (write-char c out)
           (begin
             (display "\\u" out)
             (write-char (hex-digit k 4096) out)
             (write-char (hex-digit k 256) out)
             (write-char (hex-digit k 16) out)
             (write-char (hex-digit k 1) out))))]))

(define (emit-string s out)
  (write-char #\" out)
  (let ([n (string-length s)])
    (let loop ([i 0])
      (when (< i n)
        (emit-char (string-ref s i) out)
        (loop (+ i 1)))))
  (write-char #\" out))

(define (emit-value v out)
  (cond [(string? v) (emit-string v out)]
        [(number? v) (display v out)]
        [(eq? v #t) (display "true" out)]
        [(eq? v #f) (display "false" out)]
        [(eq? v 'null) (display "null" out)]
        [(vector? v)
         (write-char #\[ out)
         (let ([n (vector-length v)])
           (let loop ([i 0])
             (when (< i n)
               (when (> i 0) (write-char #\, out))
               (emit-value (vector-ref v i) out)
               (loop (+ i 1)))))
         (write-char #\] out)]
        [else
         (write-char #\{ out)
         (let loop ([ms v] [first #t])
           (unless (null? ms)
             (unless first (write-char #\, out))
             (emit-string (caar ms) out)
             (write-char #\: out)
             (emit-value (cdar ms) out)
             (loop (cdr ms) #f)))
         (write-char #\} out)]))

(define (to-json v)
  (let ([out (open-output-string)])
    (emit-value v out)
    (get-output-string out)))

;; ---------------------------------------------------------------- parse

;; The parser reads the text from pos, the index of the next char.
(define pos 0)

(define (fail s what) (error "json:" what pos))

(define (next-char s)
  (if (< pos (string-length s))
      (let ([c (string-ref s pos)]) (set! pos (+ pos 1)) c)
      (fail s "unexpected end")))

(define (skip-ws s)
  (when (< pos (string-length s))
    (case (string-ref s pos)
      [(#\space #\newline #\tab #\return) (set! pos (+ pos 1)) (skip-ws s)]
      [else #f])))

(define (expect s c)
  (skip-ws s)
  (unless (eqv? (next-char s) c) (fail s (string-append "expected " (string c)))))

(define (digit s i)
  (if (< i (string-length s))
      (let ([k (- (char->integer (string-ref s i)) 48)]) (if (and (>= k 0) (< k 10)) k -1))
      -1))

(define (parse-digits s acc)
  (let ([k (digit s pos)])
    (if (< k 0) acc (begin (set! pos (+ pos 1)) (parse-digits s (+ (* acc 10) k))))))

(define (parse-number s)
  (when (< (digit s pos) 0) (fail s "expected a digit"))
  (parse-digits s 0))

(define (hex-value s)
  (let ([k (char->integer (next-char s))])
    (cond [(and (>= k 48) (<= k 57)) (- k 48)]
          [(and (>= k 97) (<= k 102)) (- k 87)]
          [(and (>= k 65) (<= k 70)) (- k 55)]
          [else (fail s "bad \\u escape")])))

(define (unescape s)
  (case (next-char s)
    [(#\") "\""]
    [(#\\) "\\"]
    [(#\/) "/"]
    [(#\n) "\n"]
    [(#\t) "\t"]
    [(#\r) (string (integer->char 13))]
    [(#\b) (string (integer->char 8))]
    [(#\f) (string (integer->char 12))]
    [(#\u) (let* ([a (hex-value s)] [b (hex-value s)] [c (hex-value s)] [d (hex-value s)])
             (string (integer->char (+ (* 4096 a) (* 256 b) (* 16 c) d))))]
    [else (fail s "bad escape")]))

;; The string's text from start to pos, pieces (last first) before start.
(define (parse-chars s start pieces)
  (case (next-char s)
    [(#\") (let ([last (substring s start (- pos 1))])
             (if (null? pieces) last (apply string-append (reverse (cons last pieces)))))]
    [(#\\) (let* ([run (substring s start (- pos 1))] [e (unescape s)])
             (parse-chars s pos (cons e (cons run pieces))))]
    [else (parse-chars s start pieces)]))

(define (parse-string s)
  (expect s #\")
  (parse-chars s pos '()))

(define (parse-members s acc)
  (let* ([k (parse-string s)]
         [v (begin (expect s #\:) (parse-value s))]
         [acc (cons (cons k v) acc)])
    (skip-ws s)
    (case (next-char s)
      [(#\,) (parse-members s acc)]
      [(#\}) (reverse acc)]
      [else (fail s "expected , or }")])))

(define (parse-elements s acc)
  (let ([acc (cons (parse-value s) acc)])
    (skip-ws s)
    (case (next-char s)
      [(#\,) (parse-elements s acc)]
      [(#\]) (list->vector (reverse acc))]
      [else (fail s "expected , or ]")])))

(define (parse-literal s word value)
  (let ([end (+ pos (string-length word))])
    (unless (and (<= end (string-length s)) (string=? (substring s pos end) word))
      (fail s (string-append "expected " word)))
    (set! pos end)
    value))

(define (parse-value s)
  (skip-ws s)
  (when (>= pos (string-length s)) (fail s "unexpected end"))
  (case (string-ref s pos)
    [(#\{) (set! pos (+ pos 1))
           (skip-ws s)
           (if (and (< pos (string-length s)) (eqv? (string-ref s pos) #\}))
               (begin (set! pos (+ pos 1)) '())
               (parse-members s '()))]
    [(#\[) (set! pos (+ pos 1))
           (skip-ws s)
           (if (and (< pos (string-length s)) (eqv? (string-ref s pos) #\]))
               (begin (set! pos (+ pos 1)) (vector))
               (parse-elements s '()))]
    [(#\") (parse-string s)]
    [(#\t) (parse-literal s "true" #t)]
    [(#\f) (parse-literal s "false" #f)]
    [(#\n) (parse-literal s "null" 'null)]
    [(#\-) (set! pos (+ pos 1)) (- 0 (parse-number s))]
    [else (parse-number s)]))

(define (parse s)
  (set! pos 0)
  (let ([v (parse-value s)])
    (skip-ws s)
    (when (< pos (string-length s)) (fail s "text after the value"))
    v))

;; ---------------------------------------------------------------- summarise

;; counters: objects arrays strings numbers trues falses nulls members sum chars
(define st (make-vector 10 0))
(define (bump! i k) (vector-set! st i (+ (vector-ref st i) k)))

(define (walk v)
  (cond [(string? v) (bump! 2 1) (bump! 9 (string-length v))]
        [(number? v) (bump! 3 1) (bump! 8 v)]
        [(eq? v #t) (bump! 4 1)]
        [(eq? v #f) (bump! 5 1)]
        [(eq? v 'null) (bump! 6 1)]
        [(vector? v)
         (bump! 1 1)
         (let ([n (vector-length v)])
           (let loop ([i 0])
             (when (< i n)
               (walk (vector-ref v i))
               (loop (+ i 1)))))]
        [else
         (bump! 0 1)
         (for-each (lambda (m)
                     (bump! 7 1)
                     (bump! 9 (string-length (car m)))
                     (walk (cdr m)))
                   v)]))

(define (field obj k) (cdr (assoc k obj)))

(define (active-score rs i acc)
  (if (= i (vector-length rs))
      acc
      (let ([r (vector-ref rs i)])
        (active-score rs (+ i 1) (if (field r "active") (+ acc (field r "score")) acc)))))

(define n (arg-or 27000))
(define doc (to-json (document n)))
(define value (parse doc))
(walk value)
(println "document: " (string-length doc) " chars")
(println "objects: " (vector-ref st 0) " arrays: " (vector-ref st 1) " members: " (vector-ref st 7))
(println "strings: " (vector-ref st 2) " numbers: " (vector-ref st 3) " true: " (vector-ref st 4)
         " false: " (vector-ref st 5) " null: " (vector-ref st 6))
(println "sum of numbers: " (vector-ref st 8))
(println "string chars: " (vector-ref st 9))
(println "active score: " (active-score (field value "records") 0 0))
(println "round trip: " (if (string=? (to-json value) doc) "same" "different"))
