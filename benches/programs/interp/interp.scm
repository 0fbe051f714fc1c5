;; interp: an interpreter for a small Scheme subset (integers, booleans,
;; variables, if, lambda, application, let, top-level define, the binary
;; primitives + - * quotient remainder = < > <= >=), running a program it
;; builds as data: a doubly recursive fib of n (default n = 24) and a tail
;; loop of 10,000 * n iterations calling closures (make-adder, twice) and
;; using let. Prints the value of each top-level expression. The program is
;; first analysed into nodes, vectors tagged by a symbol (variables resolved
;; to frame depth and index, primitive calls to an opcode); `ev` is one
;; `case` on the tag; a frame is a vector [parent v1 ... vn], a closure the
;; vector [closure lambda-node frame]. A tail call of the interpreted
;; program is a tail call of `ev`. Size: n.

;; ---------------------------------------------------------------- analysis

(define primitives '((+ . 0) (- . 1) (* . 2) (quotient . 3) (remainder . 4)
                     (= . 5) (< . 6) (> . 7) (<= . 8) (>= . 9)))
(define (prim-code op) (and (symbol? op) (let ([p (assq op primitives)]) (and p (cdr p)))))

;; Each global is a pair (name . value); a name used before its define gets its pair then.
(define unbound (list 'unbound))
(define globals '())
(define (global-cell name)
  (let ([cell (assq name globals)])
    (or cell
        (let ([fresh (cons name unbound)])
          (set! globals (cons fresh globals))
          fresh))))

;; The position of name in a frame's names, counting from 1 (slot 0 is the parent).
(define (index-of name names i)
  (cond [(null? names) #f]
        [(eq? (car names) name) i]
        [else (index-of name (cdr names) (+ i 1))]))

;; scope: the names of each enclosing frame, innermost first.
(define (resolve name scope depth)
  (if (null? scope)
      (vector 'global (global-cell name))
      (let ([i (index-of name (car scope) 1)])
        (if i (vector 'local depth i) (resolve name (cdr scope) (+ depth 1))))))

(define (analyze-all xs scope) (list->vector (map (lambda (x) (analyze x scope)) xs)))

(define (form? x head n) (and (pair? x) (eq? (car x) head) (= (length x) n)))

(define (analyze x scope)
  (cond [(integer? x) (vector 'const x)]
        [(boolean? x) (vector 'const x)]
        [(symbol? x) (resolve x scope 0)]
        [(form? x 'if 4)
         (vector 'if (analyze (cadr x) scope) (analyze (caddr x) scope) (analyze (cadddr x) scope))]
        [(form? x 'lambda 3)
         (vector 'lambda (length (cadr x)) (analyze (caddr x) (cons (cadr x) scope)))]
        [(form? x 'let 3)
         (vector 'let (analyze-all (map cadr (cadr x)) scope)
                 (analyze (caddr x) (cons (map car (cadr x)) scope)))]
        [(and (pair? x) (= (length x) 3) (prim-code (car x)))
         (vector 'prim (prim-code (car x)) (analyze (cadr x) scope) (analyze (caddr x) scope))]
        [(pair? x) (vector 'app (analyze (car x) scope) (analyze-all (cdr x) scope))]
        [else (error "interp: bad expression" x)]))

;; ---------------------------------------------------------------- evaluation

(define (frame-at env depth) (if (= depth 0) env (frame-at (vector-ref env 0) (- depth 1))))

(define (prim op x y)
  (case op
    [(0) (+ x y)]
    [(1) (- x y)]
    [(2) (* x y)]
    [(3) (quotient x y)]
    [(4) (remainder x y)]
    [(5) (= x y)]
    [(6) (< x y)]
    [(7) (> x y)]
    [(8) (<= x y)]
    [(9) (>= x y)]))

;; A new frame [parent v1 ... vn] holding the values of the nodes inits,
;; evaluated left to right in env.
(define (new-frame parent inits env)
  (let* ([n (vector-length inits)] [frame (make-vector (+ n 1) parent)])
    (let loop ([i 0])
      (when (< i n)
        (vector-set! frame (+ i 1) (ev (vector-ref inits i) env))
        (loop (+ i 1))))
    frame))

(define (closure? v) (and (vector? v) (eq? (vector-ref v 0) 'closure)))

(define (ev e env)
  (case (vector-ref e 0)
    [(const) (vector-ref e 1)]
    [(local) (vector-ref (frame-at env (vector-ref e 1)) (vector-ref e 2))]
    [(global) (let ([v (cdr (vector-ref e 1))])
                (if (eq? v unbound) (error "interp: unbound variable" (car (vector-ref e 1))) v))]
    [(if) (if (ev (vector-ref e 1) env) (ev (vector-ref e 2) env) (ev (vector-ref e 3) env))]
    [(lambda) (vector 'closure e env)]
    [(let) (ev (vector-ref e 2) (new-frame env (vector-ref e 1) env))]
    [(prim) (let* ([x (ev (vector-ref e 2) env)] [y (ev (vector-ref e 3) env)])
              (prim (vector-ref e 1) x y))]
    [(app) (let ([f (ev (vector-ref e 1) env)] [args (vector-ref e 2)])
             (cond [(not (closure? f)) (error "interp: not a procedure" (show f))]
                   [(not (= (vector-ref (vector-ref f 1) 1) (vector-length args)))
                    (error "interp: wrong number of arguments" (vector-length args))]
                   [else (ev (vector-ref (vector-ref f 1) 2) (new-frame (vector-ref f 2) args env))]))]))

(define (show v)
  (cond [(integer? v) (number->string v)]
        [(eq? v #t) "#t"]
        [(eq? v #f) "#f"]
        [else "#<procedure>"]))

;; Top-level forms: (define name expr) sets the global, any other form is
;; evaluated and its value printed.
(define (run forms)
  (for-each (lambda (form)
              (if (form? form 'define 3)
                  (set-cdr! (global-cell (cadr form)) (ev (analyze (caddr form) '()) (vector)))
                  (println (show (ev (analyze form '()) (vector))))))
            forms))

(define (program n)
  `((define fib (lambda (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))))
    (define make-adder (lambda (k) (lambda (x) (+ x k))))
    (define twice (lambda (f x) (f (f x))))
    (define loop
      (lambda (i acc add)
        (if (= i 0)
            acc
            (let ((r (remainder i 7))) (loop (- i 1) (if (< r 3) (twice add acc) (- acc 1)) add)))))
    (define size ,n)
    (fib size)
    (loop (* size 10000) 0 (make-adder 3))
    (< (fib 10) (* 5 11))))

(run (program (arg-or 24)))
