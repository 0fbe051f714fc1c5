;; nqueens: count the solutions of the n-queens problem (default n = 10),
;; 100 times. A partial solution is a list of queen columns, most recent
;; first. Size: n.
(define (safe? col dist qs)
  (cond [(null? qs) #t]
        [(let ([q (car qs)]) (or (= q col) (= (- q col) dist) (= (- col q) dist))) #f]
        [else (safe? col (+ dist 1) (cdr qs))]))

(define (place n row qs)
  (if (= row n) 1 (place-from n row qs 0 0)))

(define (place-from n row qs col count)
  (if (= col n)
      count
      (place-from n row qs (+ col 1)
                  (if (safe? col 1 qs)
                      (+ count (place n (+ row 1) (cons col qs)))
                      count))))

(define n (arg-or 10))
(define (reps i one total)
  (if (= i 100)
      (begin (println one) (println total))
      (let ([c (place n 0 '())]) (reps (+ i 1) c (+ total c)))))
(reps 0 0 0)
