;; binary-trees (Benchmarks Game). A node is a pair (left . right); a leaf
;; is (() . ()). Size: max depth (default 18).
(define (make d)
  (if (= d 0)
      (cons '() '())
      (cons (make (- d 1)) (make (- d 1)))))

(define (check t)
  (if (null? (car t))
      1
      (+ (+ 1 (check (car t))) (check (cdr t)))))

(define (pow2 k) (if (= k 0) 1 (* 2 (pow2 (- k 1)))))

(define n (arg-or 18))
(define min-depth 4)
(define max-depth (max (+ min-depth 2) n))
(define stretch (+ max-depth 1))
(println "stretch tree of depth " stretch "\t check: " (check (make stretch)))

(define long-lived (make max-depth))

(define (sum-trees d i iters sum)
  (if (= i iters)
      sum
      (sum-trees d (+ i 1) iters (+ sum (check (make d))))))

(define (depths d)
  (when (<= d max-depth)
    (let ([iters (pow2 (+ (- max-depth d) min-depth))])
      (println iters "\t trees of depth " d "\t check: " (sum-trees d 0 iters 0))
      (depths (+ d 2)))))
(depths min-depth)

(println "long lived tree of depth " max-depth "\t check: " (check long-lived))
