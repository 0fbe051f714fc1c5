;; tak: Takeuchi function tak(n, 2n/3, n/3 + i mod 2) for i = 0..9, summed.
;; Size: n (default 28).
(define (tak x y z)
  (if (< y x)
      (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))
      z))

(define n (arg-or 28))
(define (loop i sum)
  (if (= i 10)
      sum
      (loop (+ i 1) (+ sum (tak n (quotient (* n 2) 3) (+ (quotient n 3) (remainder i 2)))))))
(println (loop 0 0))
