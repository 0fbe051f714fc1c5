;; hof: map/filter/fold pipelines over a list of n integers (default
;; n = 1,000,000): for k = 1 .. 10, sum (filter (y mod 3 != 0) (map (x*k + 1) xs)).
(define (fold-left* f acc xs)
  (if (null? xs) acc (fold-left* f (f acc (car xs)) (cdr xs))))
(define (range n)
  (let loop ([i (- n 1)] [acc '()])
    (if (< i 0) acc (loop (- i 1) (cons i acc)))))

(define xs (range (arg-or 1000000)))
(define (step k total)
  (if (> k 10)
      total
      (step (+ k 1)
            (+ total (fold-left* + 0 (filter (lambda (y) (not (= (modulo y 3) 0)))
                                        (map (lambda (x) (+ (* x k) 1)) xs)))))))
(println (step 1 0))
