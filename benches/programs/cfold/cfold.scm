;; cfold: constant folding over a big expression tree (the shape of the Koka
;; `cfold` benchmark). An expression is (tag . payload): Var (0 . name),
;; Val (1 . n), Add (2 a . b), Mul (3 a . b). Build (mk-expr n 1) (default
;; n = 20, 2^21 nodes), evaluate it, reassociate and constant-fold it,
;; evaluate again, print both values.
(define (node t a b) (cons t (cons a b)))
(define (tag e) (car e))
(define (num e) (cdr e))
(define (lhs e) (car (cdr e)))
(define (rhs e) (cdr (cdr e)))

(define (mk-expr n v)
  (if (= n 0)
      (if (= v 0) (cons 0 1) (cons 1 v))
      (node 2 (mk-expr (- n 1) (+ v 1)) (mk-expr (- n 1) (max (- v 1) 0)))))

(define (append-add e1 e2)
  (if (= (tag e1) 2) (node 2 (lhs e1) (append-add (rhs e1) e2)) (node 2 e1 e2)))

(define (append-mul e1 e2)
  (if (= (tag e1) 3) (node 3 (lhs e1) (append-mul (rhs e1) e2)) (node 3 e1 e2)))

(define (reassoc e)
  (let ([t (tag e)])
    (cond [(= t 2) (append-add (reassoc (lhs e)) (reassoc (rhs e)))]
          [(= t 3) (append-mul (reassoc (lhs e)) (reassoc (rhs e)))]
          [else e])))

(define (combine t a b) (if (= t 2) (+ a b) (* a b)))

(define (cfold e)
  (let ([t (tag e)])
    (if (or (= t 2) (= t 3))
        (let ([a (cfold (lhs e))]
              [b (cfold (rhs e))])
          (cond [(not (= (tag a) 1)) (node t a b)]
                [(= (tag b) 1) (cons 1 (combine t (num a) (num b)))]
                [(and (= (tag b) t) (= (tag (lhs b)) 1))
                 (node t (cons 1 (combine t (num a) (num (lhs b)))) (rhs b))]
                [(and (= (tag b) t) (= (tag (rhs b)) 1))
                 (node t (cons 1 (combine t (num a) (num (rhs b)))) (lhs b))]
                [else (node t a b)]))
        e)))

(define (evaluate e)
  (let ([t (tag e)])
    (cond [(= t 0) 0]
          [(= t 1) (num e)]
          [(= t 2) (+ (evaluate (lhs e)) (evaluate (rhs e)))]
          [else (* (evaluate (lhs e)) (evaluate (rhs e)))])))

(define e (mk-expr (arg-or 20) 1))
(define v1 (evaluate e))
(define v2 (evaluate (cfold (reassoc e))))
(println v1 ", " v2)
