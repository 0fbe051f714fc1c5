;;; Prelude for Guile 3. benches/run writes this file and the program body
;;; into one script; Guile compiles it on first run (auto-compilation, -O2)
;;; and the timed runs use the cached compiled file.
(define (arg-or default)
  (let ([args (cdr (command-line))])
    (if (null? args) default (string->number (car args)))))
(define (println . xs) (for-each display xs) (newline))
(define (ht-new) (make-hash-table))
(define (ht-ref h k d) (hash-ref h k d))
(define (ht-set! h k v) (hash-set! h k v))
(define (ht-size h) (hash-count (const #t) h))
(define (ht-values h) (hash-fold (lambda (k v acc) (cons v acc)) '() h))
