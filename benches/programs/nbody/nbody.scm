;; nbody: the Benchmarks Game n-body simulation of the Sun and the four gas
;; giants (default 1,000,000 steps of 0.01 days). A body is the mutable
;; vector [x y z vx vy vz mass]. Prints the energy before and after as
;; round(energy * 1e9), an integer; the same flonum operations in the same
;; order as the other versions. Size: steps.
(define (bx b) (vector-ref b 0))
(define (by b) (vector-ref b 1))
(define (bz b) (vector-ref b 2))
(define (bvx b) (vector-ref b 3))
(define (bvy b) (vector-ref b 4))
(define (bvz b) (vector-ref b 5))
(define (bmass b) (vector-ref b 6))
(define (set-bx! b v) (vector-set! b 0 v))
(define (set-by! b v) (vector-set! b 1 v))
(define (set-bz! b v) (vector-set! b 2 v))
(define (set-bvx! b v) (vector-set! b 3 v))
(define (set-bvy! b v) (vector-set! b 4 v))
(define (set-bvz! b v) (vector-set! b 5 v))

(define pi 3.141592653589793)
(define solar-mass (* 4.0 (* pi pi)))
(define days-per-year 365.24)

(define (planet x y z vx vy vz mass)
  (vector x y z (* vx days-per-year) (* vy days-per-year) (* vz days-per-year)
          (* mass solar-mass)))

(define bodies
  (vector
   (planet 0.0 0.0 0.0 0.0 0.0 0.0 1.0)
   (planet 4.84143144246472090e+00 -1.16032004402742839e+00 -1.03622044471123109e-01
           1.66007664274403694e-03 7.69901118419740425e-03 -6.90460016972063023e-05
           9.54791938424326609e-04)
   (planet 8.34336671824457987e+00 4.12479856412430479e+00 -4.03523417114321381e-01
           -2.76742510726862411e-03 4.99852801234917238e-03 2.30417297573763929e-05
           2.85885980666130812e-04)
   (planet 1.28943695621391310e+01 -1.51111514016986312e+01 -2.23307578892655734e-01
           2.96460137564761618e-03 2.37847173959480950e-03 -2.96589568540237556e-05
           4.36624404335156298e-05)
   (planet 1.53796971148509165e+01 -2.59193146099879641e+01 1.79258772950371181e-01
           2.68067772490389322e-03 1.62824170038242295e-03 -9.51592254519715870e-05
           5.15138902046611451e-05)))
(define nbodies (vector-length bodies))

(define (offset-momentum i px py pz)
  (if (< i nbodies)
      (let ([b (vector-ref bodies i)])
        (offset-momentum (+ i 1)
                         (+ px (* (bvx b) (bmass b)))
                         (+ py (* (bvy b) (bmass b)))
                         (+ pz (* (bvz b) (bmass b)))))
      (let ([sun (vector-ref bodies 0)])
        (set-bvx! sun (/ (- 0.0 px) solar-mass))
        (set-bvy! sun (/ (- 0.0 py) solar-mass))
        (set-bvz! sun (/ (- 0.0 pz) solar-mass)))))

(define (pair-energy b j e)
  (if (< j nbodies)
      (let* ([c (vector-ref bodies j)]
             [dx (- (bx b) (bx c))] [dy (- (by b) (by c))] [dz (- (bz b) (bz c))]
             [dist (sqrt (+ (+ (* dx dx) (* dy dy)) (* dz dz)))])
        (pair-energy b (+ j 1) (- e (/ (* (bmass b) (bmass c)) dist))))
      e))

(define (energy i e)
  (if (< i nbodies)
      (let ([b (vector-ref bodies i)])
        (energy (+ i 1)
                (pair-energy b (+ i 1)
                             (+ e (* 0.5 (* (bmass b) (+ (+ (* (bvx b) (bvx b)) (* (bvy b) (bvy b)))
                                                        (* (bvz b) (bvz b)))))))))
      e))

(define (pair-advance b j dt)
  (when (< j nbodies)
    (let* ([c (vector-ref bodies j)]
           [dx (- (bx b) (bx c))] [dy (- (by b) (by c))] [dz (- (bz b) (bz c))]
           [d2 (+ (+ (* dx dx) (* dy dy)) (* dz dz))]
           [mag (/ dt (* d2 (sqrt d2)))]
           [cm (* (bmass c) mag)] [bm (* (bmass b) mag)])
      (set-bvx! b (- (bvx b) (* dx cm)))
      (set-bvy! b (- (bvy b) (* dy cm)))
      (set-bvz! b (- (bvz b) (* dz cm)))
      (set-bvx! c (+ (bvx c) (* dx bm)))
      (set-bvy! c (+ (bvy c) (* dy bm)))
      (set-bvz! c (+ (bvz c) (* dz bm)))
      (pair-advance b (+ j 1) dt))))

(define (move i dt)
  (when (< i nbodies)
    (let ([b (vector-ref bodies i)])
      (set-bx! b (+ (bx b) (* dt (bvx b))))
      (set-by! b (+ (by b) (* dt (bvy b))))
      (set-bz! b (+ (bz b) (* dt (bvz b))))
      (move (+ i 1) dt))))

(define (advance i dt)
  (if (< i nbodies)
      (begin (pair-advance (vector-ref bodies i) (+ i 1) dt)
             (advance (+ i 1) dt))
      (move 0 dt)))

(define (steps k n)
  (when (< k n)
    (advance 0 0.01)
    (steps (+ k 1) n)))

(define n (arg-or 1000000))
(offset-momentum 0 0.0 0.0 0.0)
(println "energy before: " (inexact->exact (round (* (energy 0 0.0) 1e9))))
(steps 0 n)
(println "energy after: " (inexact->exact (round (* (energy 0 0.0) 1e9))))
