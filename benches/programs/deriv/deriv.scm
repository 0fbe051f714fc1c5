;; deriv: symbolic differentiation, the shape of the Perceus/Koka `deriv`
;; benchmark. An expression is (tag . payload): Val (0 . n), Var (1 . sym),
;; Add (2 f . g), Mul (3 f . g), Pow (4 f . g), Ln (5 f . ()). Starting from
;; x^x the derivative is taken n times (default 9) with simplifying smart
;; constructors; the size of each result is printed.
(define (val n) (cons 0 n))
(define (node t a b) (cons t (cons a b)))
(define (tag e) (car e))
(define (num e) (cdr e))
(define (lhs e) (car (cdr e)))
(define (rhs e) (cdr (cdr e)))
(define (val? e) (= (car e) 0))

(define (pown x n) (if (<= n 0) 1 (* x (pown x (- n 1)))))

(define (add f g)
  (cond [(and (val? f) (val? g)) (val (+ (num f) (num g)))]
        [(and (val? f) (= (num f) 0)) g]
        [(and (val? g) (= (num g) 0)) f]
        [(val? g) (add g f)]
        [(and (val? f) (= (tag g) 2) (val? (lhs g))) (add (val (+ (num f) (num (lhs g)))) (rhs g))]
        [(and (= (tag g) 2) (val? (lhs g))) (add (lhs g) (add f (rhs g)))]
        [(= (tag f) 2) (add (lhs f) (add (rhs f) g))]
        [else (node 2 f g)]))

(define (mul f g)
  (cond [(and (val? f) (val? g)) (val (* (num f) (num g)))]
        [(and (val? f) (= (num f) 0)) (val 0)]
        [(and (val? g) (= (num g) 0)) (val 0)]
        [(and (val? f) (= (num f) 1)) g]
        [(and (val? g) (= (num g) 1)) f]
        [(val? g) (mul g f)]
        [(and (val? f) (= (tag g) 3) (val? (lhs g))) (mul (val (* (num f) (num (lhs g)))) (rhs g))]
        [(and (= (tag g) 3) (val? (lhs g))) (mul (lhs g) (mul f (rhs g)))]
        [(= (tag f) 3) (mul (lhs f) (mul (rhs f) g))]
        [else (node 3 f g)]))

(define (pw f g)
  (cond [(and (val? f) (val? g)) (val (pown (num f) (num g)))]
        [(and (val? g) (= (num g) 0)) (val 1)]
        [(and (val? g) (= (num g) 1)) f]
        [(and (val? f) (= (num f) 0)) (val 0)]
        [else (node 4 f g)]))

(define (ln f)
  (if (and (val? f) (= (num f) 1)) (val 0) (node 5 f '())))

(define (d f)
  (let ([t (tag f)])
    (cond [(= t 0) (val 0)]
          [(= t 1) (val (if (eq? (num f) 'x) 1 0))]
          [(= t 2) (add (d (lhs f)) (d (rhs f)))]
          [(= t 3) (add (mul (lhs f) (d (rhs f))) (mul (rhs f) (d (lhs f))))]
          [(= t 4) (mul (pw (lhs f) (rhs f))
                        (add (mul (mul (rhs f) (d (lhs f))) (pw (lhs f) (val -1)))
                             (mul (ln (lhs f)) (d (rhs f)))))]
          [else (mul (d (lhs f)) (pw (lhs f) (val -1)))])))

(define (count f)
  (let ([t (tag f)])
    (cond [(<= t 1) 1]
          [(= t 5) (count (lhs f))]
          [else (+ (count (lhs f)) (count (rhs f)))])))

(define n (arg-or 9))
(define x (cons 1 'x))
(define (loop i f)
  (when (< i n)
    (let ([g (d f)])
      (println (+ i 1) " count: " (count g))
      (loop (+ i 1) g))))
(loop 0 (pw x x))
