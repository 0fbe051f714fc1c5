;; ack: the Ackermann function A(3, n) (default n = 11), computed by the
;; naive doubly recursive definition.
(defun ack (m n)
  (cond ((= m 0) (+ n 1))
        ((= n 0) (ack (- m 1) 1))
        (t (ack (- m 1) (ack m (- n 1))))))
(let ((n (arg-or 11)))
  (println "ack 3 " n ": " (ack 3 n)))
