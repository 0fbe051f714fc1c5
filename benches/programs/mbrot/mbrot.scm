;; mbrot: count the points of an n × n grid (default n = 1000) over
;; [-1.5, 0.5] × [-1, 1] that stay in the Mandelbrot set for 50 iterations
;; of z := z² + c (|z|² > 4 escapes). Same flonum operations, same order as
;; the other versions. Size: n.
(define (in-set cr ci zr zi k)
  (if (= k 50)
      1
      (let ([zr2 (* zr zr)] [zi2 (* zi zi)])
        (if (> (+ zr2 zi2) 4.0)
            0
            (in-set cr ci (+ (- zr2 zi2) cr) (+ (* 2.0 (* zr zi)) ci) (+ k 1))))))

(define (coord i n offset)
  (- (/ (* 2.0 (exact->inexact i)) (exact->inexact n)) offset))

(define (row n y x acc)
  (if (= x n)
      acc
      (row n y (+ x 1) (+ acc (in-set (coord x n 1.5) (coord y n 1.0) 0.0 0.0 0)))))

(define (rows n y acc)
  (if (= y n) acc (rows n (+ y 1) (+ acc (row n y 0 0)))))

(define n (arg-or 1000))
(println "mbrot " n ": " (rows n 0 0))
