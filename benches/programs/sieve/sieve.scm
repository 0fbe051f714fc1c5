;; sieve: count the primes below n (default n = 2,000,000) with the sieve of
;; Eratosthenes over a vector of booleans, 10 times (a fresh vector each
;; time). Size: n.
(define (cross a n j step)
  (if (< j n)
      (begin (vector-set! a j #f) (cross a n (+ j step) step))
      0))

(define (mark-from a n i)
  (if (< (* i i) n)
      (begin (if (vector-ref a i) (cross a n (* i i) i) 0)
             (mark-from a n (+ i 1)))
      0))

(define (count-from a n i acc)
  (if (< i n)
      (count-from a n (+ i 1) (if (vector-ref a i) (+ acc 1) acc))
      acc))

(define (sieve n)
  (let ([a (make-vector n #t)])
    (mark-from a n 2)
    (count-from a n 2 0)))

(define n (arg-or 2000000))
(define (reps i last total)
  (if (= i 10)
      (begin (println "primes below " n ": " last) (println "total: " total))
      (let ([c (sieve n)]) (reps (+ i 1) c (+ total c)))))
(reps 0 0 0)
