;;; Prelude for Chez Scheme. benches/run writes `(import (chezscheme))`,
;;; this file and the program body into one R6RS top-level program and
;;; compiles it with `compile-program` (default optimize-level, safe).
(define (arg-or default)
  (let ([args (command-line-arguments)])
    (if (null? args) default (string->number (car args)))))
(define (println . xs) (for-each display xs) (newline))
(define (ht-new) (make-hashtable string-hash string=?))
(define (ht-ref h k d) (hashtable-ref h k d))
(define (ht-set! h k v) (hashtable-set! h k v))
(define (ht-size h) (hashtable-size h))
(define (ht-values h) (vector->list (hashtable-values h)))
