;; rbtree: insert keys n-1 .. 0 (default n = 1,000,000) into a persistent
;; red-black tree (Okasaki's balance; the shape of the Koka `rbtree`
;; benchmark), the value of key k being (k mod 10 = 0); print how many values
;; are true and the height of the tree. A node is the array
;; [color left key value right], color 0 = red, 1 = black; () is the leaf.
(define (mk c l k v r) (vector c l k v r))
(define (color t) (vector-ref t 0))
(define (lt t) (vector-ref t 1))
(define (key t) (vector-ref t 2))
(define (vl t) (vector-ref t 3))
(define (rt t) (vector-ref t 4))
(define (red? t) (and (not (null? t)) (= (color t) 0)))

(define (balance c l k v r)
  (cond [(not (= c 1)) (mk c l k v r)]
        [(and (red? l) (red? (lt l)))
         (let ([ll (lt l)])
           (mk 0 (mk 1 (lt ll) (key ll) (vl ll) (rt ll)) (key l) (vl l) (mk 1 (rt l) k v r)))]
        [(and (red? l) (red? (rt l)))
         (let ([lr (rt l)])
           (mk 0 (mk 1 (lt l) (key l) (vl l) (lt lr)) (key lr) (vl lr) (mk 1 (rt lr) k v r)))]
        [(and (red? r) (red? (lt r)))
         (let ([rl (lt r)])
           (mk 0 (mk 1 l k v (lt rl)) (key rl) (vl rl) (mk 1 (rt rl) (key r) (vl r) (rt r))))]
        [(and (red? r) (red? (rt r)))
         (let ([rr (rt r)])
           (mk 0 (mk 1 l k v (lt r)) (key r) (vl r) (mk 1 (lt rr) (key rr) (vl rr) (rt rr))))]
        [else (mk c l k v r)]))

(define (ins t k v)
  (cond [(null? t) (mk 0 '() k v '())]
        [(< k (key t)) (balance (color t) (ins (lt t) k v) (key t) (vl t) (rt t))]
        [(> k (key t)) (balance (color t) (lt t) (key t) (vl t) (ins (rt t) k v))]
        [else (mk (color t) (lt t) k v (rt t))]))

(define (insert t k v)
  (let ([s (ins t k v)]) (mk 1 (lt s) (key s) (vl s) (rt s))))

(define (count t)
  (if (null? t) 0 (+ (count (lt t)) (+ (if (vl t) 1 0) (count (rt t))))))

(define (height t)
  (if (null? t) 0 (+ 1 (max (height (lt t)) (height (rt t))))))

(define (build k t)
  (if (< k 0) t (build (- k 1) (insert t k (= (remainder k 10) 0)))))

(define n (arg-or 1000000))
(define tree (build (- n 1) '()))
(println (count tree))
(println (height tree))
