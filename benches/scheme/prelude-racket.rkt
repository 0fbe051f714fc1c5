;;; Prelude for Racket. benches/run writes `#lang racket/base`, this file and
;;; the program body into one module and compiles it with `raco make`.
(define (arg-or default)
  (let ([args (current-command-line-arguments)])
    (if (zero? (vector-length args)) default (string->number (vector-ref args 0)))))
(define (println . xs) (for-each display xs) (newline))
(define (ht-new) (make-hash))
(define (ht-ref h k d) (hash-ref h k d))
(define (ht-set! h k v) (hash-set! h k v))
(define (ht-size h) (hash-count h))
(define (ht-values h) (hash-values h))
