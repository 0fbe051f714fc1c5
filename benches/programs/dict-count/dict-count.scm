;; dict-count: count words in a dict. n words (default 1,000,000) are
;; generated with the Park-Miller generator (seed 42): r -> r*16807 mod
;; (2^31-1); the word id is (r mod 300) * ((r quot 300) mod 300) and the word
;; is the id in base 26 with the letters a..z, least significant first.
;; Print the number of distinct words, the sum of the squares of the counts
;; and the counts of "a" and "b".
(define (word-chars id)
  (cons (integer->char (+ 97 (remainder id 26)))
        (if (< id 26) '() (word-chars (quotient id 26)))))

(define (fold-left* f acc xs)
  (if (null? xs) acc (fold-left* f (f acc (car xs)) (cdr xs))))

(define counts (ht-new))
(define n (arg-or 1000000))
(define (gen i r)
  (when (< i n)
    (let ([r2 (remainder (* r 16807) 2147483647)])
      (let ([w (list->string (word-chars (* (remainder r2 300) (remainder (quotient r2 300) 300))))])
        (ht-set! counts w (+ 1 (ht-ref counts w 0)))
        (gen (+ i 1) r2)))))
(gen 0 42)
(println (ht-size counts))
(println (fold-left* (lambda (acc c) (+ acc (* c c))) 0 (ht-values counts)))
(println (ht-ref counts "a" 0))
(println (ht-ref counts "b" 0))
