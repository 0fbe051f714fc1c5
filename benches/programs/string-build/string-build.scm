;; string-build: build a large string from many small pieces
;; ("k<i>," for i = 0 .. n-1, default n = 1,000,000): make the pieces, join
;; them, print the length, the first 30 and the last 30 characters.
(define (join strs)
  (let ([port (open-output-string)])
    (for-each (lambda (s) (display s port)) strs)
    (get-output-string port)))

(define n (arg-or 1000000))
(define (pieces i acc)
  (if (= i n)
      acc
      (pieces (+ i 1) (cons (string-append "k" (number->string i) ",") acc))))
(define s (join (reverse (pieces 0 '()))))
(define len (string-length s))
(println len)
(println (substring s 0 (min 30 len)))
(println (substring s (max 0 (- len 30)) len))
