;; fib: naive doubly recursive Fibonacci. Size: n (default 36).
(defun fib (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(println (fib (arg-or 36)))
