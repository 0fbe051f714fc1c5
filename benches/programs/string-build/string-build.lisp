;; string-build: build a large string from many small pieces ("k<i>,",
;; i = 0 .. n-1, default 1,000,000): make the pieces, join them with a string
;; output stream, print the length and the first and last 30 characters.
(defun pieces (n i acc)
  (if (= i n)
      acc
      (pieces n (+ i 1) (cons (concatenate 'string "k" (princ-to-string i) ",") acc))))
(defun join (strs)
  (with-output-to-string (out)
    (dolist (s strs) (write-string s out))))
(let* ((s (join (reverse (pieces (arg-or 1000000) 0 '()))))
       (len (length s)))
  (println len)
  (println (subseq s 0 (min 30 len)))
  (println (subseq s (max 0 (- len 30)) len)))
